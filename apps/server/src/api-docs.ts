import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import { accessCookieName } from "@sluice/identity";
import type { FastifyInstance } from "fastify";
import { apiDocsContentSecurityPolicy } from "./security-headers";

/**
 * The REST API's OpenAPI document, built from the routes' own Fastify schemas, at /docs/json,
 * with Swagger UI at /docs. Registered before the routes it lists (it collects them as they are
 * added). The WebSocket API is documented in docs/protocol.md.
 */
export async function registerApiDocs(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Sluice REST API",
        description:
          "Identity and operations. Browsers authenticate with the HttpOnly session cookies set by sign-in and " +
          "send the `x-sluice-csrf` header on changes; other clients send `x-sluice-client: sdk` and then " +
          "`Authorization: Bearer <accessToken>`. Errors are `{ code, message }`. Everything else goes over " +
          "the WebSocket at /ws (docs/protocol.md).",
        version: "1",
      },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
          cookie: { type: "apiKey", in: "cookie", name: accessCookieName },
        },
      },
    },
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: "/docs",
    // The validator badge would load an image from validator.swagger.io, outside the CSP.
    uiConfig: { validatorUrl: null },
    staticCSP: apiDocsContentSecurityPolicy,
  });
}
