import { RedisBroker, RedisPresenceStore } from "@sluice/broker";
import { KafkaCommandBus } from "@sluice/bus/kafka";
import { createEventStore } from "@sluice/event-store";
import { registerApiDocs } from "../api-docs";
import { openDispatch } from "../dispatch-context";
import { registerSecurityHeaders } from "../security-headers";
import { attachSourceGateway, openIdentity } from "../source-edge";
import { registerWebApp } from "../web-app";
import type { SourceGatewayConfig } from "./config";
import { kafkaBusOptions, openPostgres, startRole, type RunningRole } from "./role-process";

/**
 * The source gateway of the scale-out shape: holds the sockets (`/ws`), authenticates them, puts
 * commands on the Kafka command bus and takes the replies on its own replies topic, answers
 * queries from the read models on PostgreSQL, and hears publications and presence from Redis for
 * the channels its sockets subscribe to. Identity's REST endpoints (`/auth`) and the SPA are
 * served here too, for now.
 */
export function startSourceGatewayRole(config: SourceGatewayConfig): Promise<RunningRole> {
  return startRole(config, async ({ app, metrics, cleanups }) => {
    const log = app.log;
    const db = await openPostgres(config.database, cleanups);
    // The router needs Dispatch's command service to admit commands (policy, validation); its
    // commands run in the domain service, never here: they go on the bus.
    const store = await createEventStore(db, { personalData: { masterKey: config.personalDataKey } });
    const identity = await openIdentity(db, config, log);
    cleanups.push(async () => identity.close());
    const { router } = await openDispatch(db, store);

    const commandBus = await KafkaCommandBus.open({
      ...kafkaBusOptions(config.kafka, config.role),
      ...(config.gatewayId !== undefined && { gatewayId: config.gatewayId }),
    });
    cleanups.push(() => commandBus.close());
    const onError = (error: unknown) => log.warn({ err: error }, "redis");
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
    await app.register(identity.plugin);
    await registerWebApp(app, config.webDist);
    return () => ({ connections: gateway.connectionCount });
  });
}
