import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";

export interface Readiness {
  /** False while starting or draining: /readyz answers 503. */
  ready(): boolean;
  /** Shown with a ready answer (open connections, for an edge). */
  detail?(): Record<string, unknown>;
}

/** /healthz, /readyz and /metrics: every process of either shape answers the same three. */
export function registerOperations(app: FastifyInstance, metrics: Registry, readiness: Readiness): void {
  const operations = { tags: ["operations"] };
  app.get("/healthz", { schema: { ...operations, summary: "The process is up" } }, async () => ({ status: "ok" }));
  app.get(
    "/readyz",
    { schema: { ...operations, summary: "Ready for traffic (503 while starting or draining)" } },
    async (_request, reply) => {
      if (!readiness.ready()) return reply.code(503).send({ status: "starting or draining" });
      return { status: "ready", ...readiness.detail?.() };
    },
  );
  app.get("/metrics", { schema: { ...operations, summary: "Prometheus metrics" } }, async (_request, reply) => {
    reply.type(metrics.contentType);
    return metrics.metrics();
  });
}
