import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const defaultWebDist = fileURLToPath(new URL("../../web/dist", import.meta.url));

/** Serves the built SPA when the folder exists, with index.html for any other GET that wants a page. */
export async function registerWebApp(app: FastifyInstance, webDist: string = defaultWebDist): Promise<void> {
  if (!existsSync(webDist)) return;
  await app.register(fastifyStatic, { root: webDist, wildcard: false });
  // The SPA routes in the browser: any other GET that wants a page gets index.html.
  app.setNotFoundHandler((request, reply) => {
    const wantsPage = request.method === "GET" && (request.headers.accept ?? "").includes("text/html");
    if (wantsPage) return reply.sendFile("index.html");
    return reply.code(404).send({ error: "not found" });
  });
}
