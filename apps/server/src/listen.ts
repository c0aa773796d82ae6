import type { FastifyInstance } from "fastify";

/** Starts listening; where a browser or client reaches it (port 0 resolved, a wildcard host shown as localhost). */
export async function listen(app: FastifyInstance, host: string, port: number): Promise<{ url: string; port: number }> {
  await app.listen({ port, host });
  const address = app.server.address();
  const bound = typeof address === "object" && address ? address.port : port;
  const shownHost = host === "0.0.0.0" || host === "::" ? "localhost" : host;
  return { url: `http://${shownHost}:${bound}`, port: bound };
}
