import fastifyHelmet from "@fastify/helmet";
import type { FastifyInstance } from "fastify";

/**
 * The Content-Security-Policy of every reply. The built SPA (apps/web/dist/index.html) loads one
 * module script, its preloads and stylesheets from its own origin, and nothing inline; its icon is
 * a data: URL. React sets styles through the CSSOM, which style-src does not govern. Swagger UI
 * at /docs fits the same policy (its validator badge is turned off). `connect-src 'self'` covers
 * the WebSocket on the same host. No upgrade-insecure-requests: the embedded shape runs on plain
 * http (localhost), where upgrading would break every asset; behind TLS, HSTS does that job.
 */
export const contentSecurityPolicy = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    baseUri: ["'self'"],
    connectSrc: ["'self'"],
    fontSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    imgSrc: ["'self'", "data:"],
    manifestSrc: ["'self'"],
    objectSrc: ["'none'"],
    scriptSrc: ["'self'"],
    scriptSrcAttr: ["'none'"],
    styleSrc: ["'self'"],
    workerSrc: ["'self'"],
  },
} as const;

/**
 * The policy of Swagger UI's pages (/docs): the same, except that Swagger UI sets inline style
 * attributes as it renders. Scripts stay 'self' only.
 */
export const apiDocsContentSecurityPolicy: Record<string, string[]> = Object.fromEntries(
  Object.entries(contentSecurityPolicy.directives).map(([name, sources]) => [
    name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`),
    name === "styleSrc" ? [...sources, "'unsafe-inline'"] : [...sources],
  ]),
);

/** Helmet's headers on every HTTP reply: CSP above, no framing, no sniffing, no referrer. */
export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(fastifyHelmet, {
    global: true,
    contentSecurityPolicy,
    xFrameOptions: { action: "deny" },
    referrerPolicy: { policy: "no-referrer" },
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
  });
}
