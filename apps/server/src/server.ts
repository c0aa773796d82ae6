import fastifyStatic from "@fastify/static";
import { MemoryBroker, MemoryPresenceStore } from "@sluice/broker";
import { InProcessCommandBus, InProcessEventBus, startOutbox } from "@sluice/bus";
import { migrate, openDatabase } from "@sluice/database";
import { createDispatchModule, seedDemoDispatch } from "@sluice/dispatch";
import { DispatchCommandService } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { DispatchQueryService } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import { createEventStore, startArchiving, startProjection } from "@sluice/event-store";
import { createIdentity, type DemoSeed } from "@sluice/identity";
import { Router } from "@sluice/rpc";
import { startSinkGateway } from "@sluice/sink-gateway";
import { SourceGateway } from "@sluice/source-gateway";
import Fastify from "fastify";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Registry, collectDefaultMetrics } from "prom-client";
import { registerApiDocs } from "./api-docs";
import type { ServerConfig } from "./config";
import { liveSessions } from "./live-sessions";
import { registerSecurityHeaders } from "./security-headers";

export interface RunningServer {
  /** Where the server listens, e.g. http://localhost:8080 (the WebSocket is at `${url}/ws`). */
  readonly url: string;
  readonly port: number;
  /** What the first start seeded: demo organizations and users. */
  readonly demo: DemoSeed | undefined;
  /**
   * Drains the sockets (Disconnect SHUTDOWN in batches), stops the consumers and closes the
   * database. Safe to call twice.
   */
  close(): Promise<void>;
}

const defaultWebDist = fileURLToPath(new URL("../../web/dist", import.meta.url));

/**
 * The embedded shape in one process: PGlite, the Dispatch bounded context with its projections,
 * in-process command bus and broker, sink and source gateways, identity, the SPA and operations
 * endpoints on one port.
 */
export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const app = Fastify({
    logger: { level: config.logLevel, ...(config.logStream && { stream: config.logStream }) },
    forceCloseConnections: true,
  });
  const log = app.log;
  const cleanups: Array<() => Promise<void>> = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        log.error({ err: error }, "shutdown step failed");
      }
    }
  };

  try {
    const db = await openDatabase({ kind: "pglite", dataDir: config.dataDir });
    cleanups.push(() => db.close());
    const store = await createEventStore(db, { personalData: { masterKey: config.personalDataKey } });
    // Closed streams (completed routes) leave the hot table every minute (docs/event-store.md).
    const archiving = startArchiving(store, {
      intervalMs: 60_000,
      batchSize: 100,
      onError: (err) => log.warn({ err }, "archiving failed"),
    });
    cleanups.push(() => archiving.stop());

    const identity = await createIdentity({
      db,
      hashCost: config.hashCost,
      accessTokenTtlSeconds: config.accessTokenTtlSeconds,
      privateKeyPem: config.jwtPrivateKeyPem,
      allowedOrigins: config.allowedOrigins,
      signInLimits: config.signInLimits,
      refreshReuseGraceSeconds: config.refreshReuseGraceSeconds,
      logger: log,
    });
    cleanups.push(async () => identity.close());
    const dispatch = createDispatchModule({ db, store });
    await migrate(db, dispatch.migrations);

    const router = new Router()
      .service(DispatchCommandService, dispatch.commands)
      .service(DispatchQueryService, dispatch.queries);
    const commandBus = new InProcessCommandBus(router);
    cleanups.push(() => commandBus.close());

    // All read models in one consumer: one read, one transaction, one checkpoint per batch.
    // Under load, a read-model batch waits 20 ms for more (each holds PGlite, and the thread, a while).
    const readModels = await startProjection(db, store, dispatch.readModels, { lingerMs: 20 });
    cleanups.push(() => readModels.stop());

    const broker = new MemoryBroker();
    cleanups.push(() => broker.close());
    const presence = new MemoryPresenceStore();
    const eventBus = new InProcessEventBus();
    cleanups.push(() => eventBus.close());
    const sink = await startSinkGateway({ bus: eventBus, broker, channelsOf: (event) => dispatch.channelsOf(event) });
    cleanups.push(() => sink.stop());
    // Stops before the sink: what committed until then still reaches the channels.
    const outbox = startOutbox(db, store, eventBus);
    cleanups.push(() => outbox.stop());

    let demo: DemoSeed | undefined;
    if (config.seedDemo ?? true) {
      demo = await identity.seedDemo();
      await seedDemoDispatch({ store, organizationId: demo.organizations.acme, userId: firstUser(demo) });
    }
    // Open with the read models and the channels current: what was in the log at start (the seed,
    // what arrived while the server was down) is projected and published before the first client.
    await Promise.all([readModels.caughtUp(), outbox.caughtUp()]);

    const metrics = new Registry();
    collectDefaultMetrics({ register: metrics });
    const gateway = new SourceGateway({
      router,
      commandBus,
      broker,
      presence,
      authenticate: (headers) => identity.authenticate(headers),
      verifyAccessToken: (token) => identity.verifyAccessToken(token),
      logger: log,
      metrics,
      limits: config.gatewayLimits,
      allowedOrigins: config.allowedOrigins,
      revocations: config.hearRevocations === false ? undefined : (listener) => identity.onRevoked(listener),
      ...(config.sessionRecheckMs !== undefined && {
        verifySessions: liveSessions(db, Date.now),
        sessionRecheckMs: config.sessionRecheckMs,
      }),
    });
    gateway.attach(app.server);
    // Cleanups run in reverse: sockets drain first, then HTTP stops, then consumers and the database.
    cleanups.push(() => app.close());
    cleanups.push(() => gateway.close());

    await registerSecurityHeaders(app);
    await registerApiDocs(app);

    let ready = false;
    const operations = { tags: ["operations"] };
    app.get("/healthz", { schema: { ...operations, summary: "The process is up" } }, async () => ({ status: "ok" }));
    app.get(
      "/readyz",
      { schema: { ...operations, summary: "Ready for traffic (503 while starting or draining)" } },
      async (_request, reply) => {
        if (!ready) return reply.code(503).send({ status: "starting or draining" });
        return { status: "ready", connections: gateway.connectionCount };
      },
    );
    app.get("/metrics", { schema: { ...operations, summary: "Prometheus metrics" } }, async (_request, reply) => {
      reply.type(metrics.contentType);
      return metrics.metrics();
    });
    await app.register(identity.plugin);

    const webDist = config.webDist ?? defaultWebDist;
    if (existsSync(webDist)) {
      await app.register(fastifyStatic, { root: webDist, wildcard: false });
      // The SPA routes in the browser: any other GET that wants a page gets index.html.
      app.setNotFoundHandler((request, reply) => {
        const wantsPage = request.method === "GET" && (request.headers.accept ?? "").includes("text/html");
        if (wantsPage) return reply.sendFile("index.html");
        return reply.code(404).send({ error: "not found" });
      });
    }

    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    const shownHost = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
    ready = true;

    let closing: Promise<void> | undefined;
    return {
      url: `http://${shownHost}:${port}`,
      port,
      demo,
      close() {
        ready = false;
        closing ??= cleanUp();
        return closing;
      },
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

function firstUser(demo: DemoSeed): string {
  const userId = demo.users["ana@acme.test"];
  if (!userId) throw new Error("the demo seed has no ana@acme.test");
  return userId;
}
