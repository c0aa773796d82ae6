import { MemoryBroker, MemoryPresenceStore } from "@sluice/broker";
import { DispatchCommandService } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { DispatchQueryService } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import { channelsOf } from "@sluice/dispatch";
import type { DemoSeed } from "@sluice/identity";
import { Router } from "@sluice/rpc";
import { startSinkGateway } from "@sluice/sink-gateway";
import Fastify from "fastify";
import { Registry, collectDefaultMetrics } from "prom-client";
import { registerApiDocs } from "./api-docs";
import { Cleanups } from "./cleanups";
import { trustProxyOption, type ServerConfig } from "./config";
import { dispatchSeedOf } from "./demo-seed";
import { openDomainThread } from "./domain-thread/domain-thread";
import { listen } from "./listen";
import { registerOperations } from "./operations";
import { registerSecurityHeaders } from "./security-headers";
import { serviceOverBus } from "./service-over-bus";
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
 * The embedded shape in one process: PGlite, the Dispatch bounded context with its projections
 * and the outbox in a domain thread of their own (`./domain-thread`); in-process broker, sink and
 * source gateways, identity, the SPA and operations endpoints on one port on the main thread.
 * The scale-out shape composes the same parts per role (`./roles`).
 */
export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const app = Fastify({
    logger: { level: config.logLevel, ...(config.logStream && { stream: config.logStream }) },
    forceCloseConnections: true,
    trustProxy: trustProxyOption(config.trustProxy),
  });
  const log = app.log;
  const cleanups = new Cleanups(log);
  let closing: Promise<void> | undefined;
  const cleanUp = () => (closing ??= cleanups.run());

  try {
    const domain = await openDomainThread({
      dataDir: config.dataDir,
      log,
      onLost: (error) => {
        log.fatal({ err: error }, "the domain thread was lost; stopping");
        void cleanUp();
      },
    });
    cleanups.push(() => domain.close());
    const db = domain.db;
    const identity = await openIdentity(db, config, log);
    cleanups.push(async () => identity.close());

    const broker = new MemoryBroker();
    cleanups.push(() => broker.close());
    const presence = new MemoryPresenceStore();
    const sink = await startSinkGateway({ bus: domain.eventBus, broker, channelsOf });
    cleanups.push(() => sink.stop());
    // Stops before the sink: what committed until then still reaches the channels.
    cleanups.push(() => domain.stop());

    const demo = (config.seedDemo ?? true) ? await identity.seedDemo() : undefined;
    await domain.start({ personalDataKey: config.personalDataKey, seed: demo && dispatchSeedOf(demo) });
    // Dispatch runs in the domain thread: the gateway admits each call here and sends it there.
    const router = new Router()
      .service(DispatchCommandService, serviceOverBus(DispatchCommandService, domain.commandBus))
      .service(DispatchQueryService, serviceOverBus(DispatchQueryService, domain.commandBus));

    const metrics = new Registry();
    collectDefaultMetrics({ register: metrics });
    const gateway = attachSourceGateway(
      app,
      { router, commandBus: domain.commandBus, broker, presence, identity, db, metrics },
      config,
    );
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

    return {
      url,
      port,
      demo,
      close() {
        ready = false;
        return cleanUp();
      },
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}
