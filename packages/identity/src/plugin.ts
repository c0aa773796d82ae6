import fastifyCookie from "@fastify/cookie";
import type { FastifyError, FastifyPluginAsync } from "fastify";
import { ErrorCode, RpcError } from "@sluice/rpc";
import type { Identity } from "./identity";

/** What the plugin needs from identity; the plugin itself holds no state. */
export type IdentityCore = Pick<Identity, "authenticate" | "signIn" | "signOut" | "profile" | "accessTokenTtlSeconds">;

export const accessCookieName = "sluice_access";

interface SignInBody {
  email: string;
  password: string;
}

const signInBody = {
  type: "object",
  required: ["email", "password"],
  additionalProperties: false,
  properties: {
    email: { type: "string", minLength: 3, maxLength: 320 },
    password: { type: "string", minLength: 1, maxLength: 1024 },
  },
} as const;

const userSchema = {
  type: "object",
  required: ["id", "email", "displayName", "role", "organizationId", "organizationName"],
  properties: {
    id: { type: "string" },
    email: { type: "string" },
    displayName: { type: "string" },
    role: { type: "string" },
    organizationId: { type: "string" },
    organizationName: { type: "string" },
  },
} as const;

const errorSchema = {
  type: "object",
  required: ["code", "message"],
  properties: { code: { type: "string" }, message: { type: "string" } },
} as const;

/**
 * POST /auth/signin, POST /auth/signout, GET /auth/me. Register it without a prefix: the cookie
 * and the SPA expect these paths. Errors inside it answer as JSON `{ code, message }`.
 */
export function createIdentityPlugin(identity: IdentityCore): FastifyPluginAsync {
  return async function identityPlugin(app) {
    // The server may have registered the cookie plugin already; a second registration would clash.
    if (!app.hasDecorator("parseCookie")) await app.register(fastifyCookie);

    app.setErrorHandler<FastifyError | RpcError>((error, request, reply) => {
      if (error instanceof RpcError) {
        if (error.code === ErrorCode.UNAUTHENTICATED) {
          return reply.code(401).send({ code: "UNAUTHENTICATED", message: error.message });
        }
      } else if (error.validation) {
        return reply.code(400).send({ code: "INVALID_ARGUMENT", message: error.message });
      } else if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
        // Malformed JSON, a wrong content type, a body too large: the caller's mistake, said plainly.
        return reply.code(error.statusCode).send({ code: "INVALID_ARGUMENT", message: error.message });
      }
      request.log.error({ err: error }, "identity request failed");
      return reply.code(500).send({ code: "INTERNAL", message: "internal error" });
    });

    app.addHook("onSend", async (_request, reply) => {
      // Tokens and profiles must not sit in shared caches.
      reply.header("cache-control", "no-store");
    });

    app.post<{ Body: SignInBody }>(
      "/auth/signin",
      {
        schema: {
          body: signInBody,
          response: {
            200: {
              type: "object",
              required: ["accessToken", "expiresAt", "user"],
              properties: { accessToken: { type: "string" }, expiresAt: { type: "number" }, user: userSchema },
            },
            "4xx": errorSchema,
          },
        },
      },
      async (request, reply) => {
        const signedIn = await identity.signIn(request.body.email, request.body.password);
        reply.setCookie(accessCookieName, signedIn.accessToken, {
          httpOnly: true,
          sameSite: "strict",
          secure: request.protocol === "https",
          path: "/",
          maxAge: identity.accessTokenTtlSeconds,
        });
        return { accessToken: signedIn.accessToken, expiresAt: signedIn.expiresAt, user: signedIn.user };
      },
    );

    app.post("/auth/signout", async (request, reply) => {
      // Only a verified token can revoke its session; anything else just loses its cookie.
      const session = await identity.authenticate(request.headers).catch((error: unknown) => {
        if (error instanceof RpcError && error.code === ErrorCode.UNAUTHENTICATED) return undefined;
        throw error;
      });
      if (session) await identity.signOut(session.sessionId);
      reply.clearCookie(accessCookieName, { path: "/", httpOnly: true, sameSite: "strict" });
      return reply.code(204).send();
    });

    app.get(
      "/auth/me",
      {
        schema: {
          response: {
            200: {
              type: "object",
              required: ["expiresAt", "user"],
              properties: { expiresAt: { type: "number" }, user: userSchema },
            },
            "4xx": errorSchema,
          },
        },
      },
      async (request) => {
        const session = await identity.authenticate(request.headers);
        const user = await identity.profile(session.userId);
        if (!user) throw new RpcError(ErrorCode.UNAUTHENTICATED, "user no longer exists: sign in again");
        return { expiresAt: session.expiresAt, user };
      },
    );
  };
}
