import { RedisBroker, RedisPresenceStore } from "@sluice/broker";
import { KafkaCommandBus, startRepliesJanitor } from "@sluice/bus/kafka";
import { DispatchCommandService } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { DispatchQueryService } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import { migrate } from "@sluice/database";
import { createDispatchQueries, dispatchReadModelMigrations, dispatchReadModelsName } from "@sluice/dispatch";
import { eventStoreMigrations, followConsumer, projectionCheckpointName } from "@sluice/event-store";
import { RedisAttemptCounters } from "@sluice/identity/redis";
import { Router } from "@sluice/rpc";
import { registerApiDocs } from "../api-docs";
import { registerSecurityHeaders } from "../security-headers";
import { attachSourceGateway, openIdentity } from "../source-edge";
import { registerWebApp } from "../web-app";
import type { SourceGatewayConfig } from "./config";
import { serviceOverBus } from "../service-over-bus";
import { kafkaBusOptions, openPostgres, startRole, type RunningRole } from "./role-process";

/**
 * The source gateway of the scale-out shape: holds the sockets (`/ws`), authenticates them, puts
 * commands on the Kafka command bus and takes the replies on its own replies topic, answers
 * queries from the read models on PostgreSQL, and hears publications and presence from Redis for
 * the channels its sockets subscribe to. The SPA is served here too, and identity's REST endpoints
 * (`/auth`, the JWKS) unless an auth role serves them (`serveAuth`); serving them, it throttles
 * sign-in on counters in Redis, shared with every other process serving `/auth`.
 */
export function startSourceGatewayRole(config: SourceGatewayConfig): Promise<RunningRole> {
  return startRole(config, async ({ app, metrics, cleanups }) => {
    const log = app.log;
    const db = await openPostgres(config.database, cleanups);
    const onError = (error: unknown) => log.warn({ err: error }, "redis");
    // Serving /auth, it throttles sign-in on the counters in Redis every such process shares.
    let counters: RedisAttemptCounters | undefined;
    if (config.serveAuth) {
      counters = await RedisAttemptCounters.connect({ ...config.redis, onError });
      cleanups.push(() => counters!.close());
    }
    const identity = await openIdentity(db, config, log, counters);
    cleanups.push(async () => identity.close());

    const busOptions = kafkaBusOptions(config.kafka, config.role);
    const commandBus = await KafkaCommandBus.open({
      ...busOptions,
      ...(config.gatewayId !== undefined && { gatewayId: config.gatewayId }),
    });
    cleanups.push(() => commandBus.close());
    // A gateway that dies leaves its replies topic behind; every gateway looks for such, each minute.
    const janitor = startRepliesJanitor(busOptions);
    cleanups.push(() => janitor.stop());
    // Commands run in the domain service: the gateway admits them and puts them on the bus. Queries
    // it answers itself, from the read models (their tables, and the log's that following the
    // projector reads, created here too, should it start first), once the projector, in its own process, holds what committed before them (read your writes,
    // as in the embedded shape), or after readYourWritesWaitMs.
    await migrate(db, [...eventStoreMigrations, ...dispatchReadModelMigrations]);
    const projector = await followConsumer(db, projectionCheckpointName(dispatchReadModelsName), {
      maxWaitMs: config.readYourWritesWaitMs,
    });
    cleanups.push(() => projector.stop());
    const router = new Router()
      .service(DispatchCommandService, serviceOverBus(DispatchCommandService, commandBus))
      .service(
        DispatchQueryService,
        createDispatchQueries(db, () => projector.caughtUp()),
      );
    const broker = await RedisBroker.connect({ ...config.redis, onError });
    cleanups.push(() => broker.close());
    const presence = await RedisPresenceStore.connect({ ...config.redis, onError });
    cleanups.push(() => presence.close());

    const gateway = attachSourceGateway(app, { router, commandBus, broker, presence, identity, db, metrics }, config);
    // Cleanups run in reverse: sockets drain first, then HTTP stops, then the buses and the database.
    cleanups.push(() => app.close());
    cleanups.push(() => gateway.close());

    await registerSecurityHeaders(app);
    await registerApiDocs(app);
    if (config.serveAuth) await app.register(identity.plugin);
    await registerWebApp(app, config.webDist);
    return () => ({ connections: gateway.connectionCount });
  });
}
