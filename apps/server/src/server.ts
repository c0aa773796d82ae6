import { MemoryBroker, MemoryPresenceStore } from "@sluice/broker";
import { InProcessCommandBus, InProcessEventBus, startOutbox } from "@sluice/bus";
import { openDatabase } from "@sluice/database";
import { createEventStore, startArchiving, startProjection, type Consumer } from "@sluice/event-store";
import type { DemoSeed } from "@sluice/identity";
import { startSinkGateway } from "@sluice/sink-gateway";
import Fastify from "fastify";
import { Registry, collectDefaultMetrics } from "prom-client";
import { registerApiDocs } from "./api-docs";
import { Cleanups } from "./cleanups";
import type { ServerConfig } from "./config";
import { seedDemo } from "./demo-seed";
import { openDispatch } from "./dispatch-context";
import { listen } from "./listen";
import { registerOperations } from "./operations";
import { registerSecurityHeaders } from "./security-headers";
import { attachSourceGateway, openIdentity } from "./source-edge";
import { registerWebApp } from "./web-app";

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

/**
 * The embedded shape in one process: PGlite, the Dispatch bounded context with its projections,
 * in-process command bus and broker, sink and source gateways, identity, the SPA and operations
 * endpoints on one port. The scale-out shape composes the same parts per role (`./roles`).
 */
export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const app = Fastify({
    logger: { level: config.logLevel, ...(config.logStream && { stream: config.logStream }) },
    forceCloseConnections: true,
  });
  const log = app.log;
  const cleanups = new Cleanups(log);
  const cleanUp = () => cleanups.run();

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

    const identity = await openIdentity(db, config, log);
    cleanups.push(async () => identity.close());
    // Queries read their asker's writes: they wait for the read models to hold what committed
    // before them (at most the projection's lag; the wait cuts its linger short).
    const readModels: { projection?: Consumer } = {};
    const { dispatch, router } = await openDispatch(db, store, async () => readModels.projection?.caughtUp());
    const commandBus = new InProcessCommandBus(router);
    cleanups.push(() => commandBus.close());
    // All read models in one consumer: one read, one transaction, one checkpoint per batch.
    // Under load, a read-model batch waits 20 ms for more (each holds PGlite, and the thread, a while).
    const projection = await startProjection(db, store, dispatch.readModels, { lingerMs: 20 });
    readModels.projection = projection;
    cleanups.push(() => projection.stop());

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
      demo = await seedDemo(identity, store);
    }
    // Open with the read models and the channels current: what was in the log at start (the seed,
    // what arrived while the server was down) is projected and published before the first client.
    await Promise.all([projection.caughtUp(), outbox.caughtUp()]);

    const metrics = new Registry();
    collectDefaultMetrics({ register: metrics });
    const gateway = attachSourceGateway(app, { router, commandBus, broker, presence, identity, db, metrics }, config);
    // Cleanups run in reverse: sockets drain first, then HTTP stops, then consumers and the database.
    cleanups.push(() => app.close());
    cleanups.push(() => gateway.close());

    await registerSecurityHeaders(app);
    await registerApiDocs(app);

    let ready = false;
    registerOperations(app, metrics, {
      ready: () => ready,
      detail: () => ({ connections: gateway.connectionCount }),
    });
    await app.register(identity.plugin);

    await registerWebApp(app, config.webDist);

    const { url, port } = await listen(app, config.host, config.port);
    ready = true;

    let closing: Promise<void> | undefined;
    return {
      url,
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
