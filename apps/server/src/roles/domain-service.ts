import { startOutbox } from "@sluice/bus";
import { KafkaEventBus, serveKafkaCommands } from "@sluice/bus/kafka";
import { createEventStore, startArchiving } from "@sluice/event-store";
import { openDispatch } from "../dispatch-context";
import type { DomainServiceConfig } from "./config";
import { runElected } from "./elected";
import { kafkaBusOptions, openPostgres, startRole, type RunningRole } from "./role-process";

/** The outbox's checkpoint, and the lease of the one domain service that relays. */
const outboxName = "outbox";

/**
 * Dispatch's domain service in the scale-out shape: a member of the context's command consumer
 * group (instances split the partitions, so one aggregate's commands run in order), running each
 * through the command router on the PostgreSQL event store and replying to the gateway that sent
 * it; and, in the one instance elected for it, the outbox: a checkpointed consumer of the log that
 * hands every committed event to the Kafka event bus.
 */
export function startDomainServiceRole(config: DomainServiceConfig): Promise<RunningRole> {
  return startRole(config, async (parts) => {
    const { app, cleanups } = parts;
    const db = await openPostgres(config.database, cleanups);
    const store = await createEventStore(db, { personalData: { masterKey: config.personalDataKey } });
    // Closed streams (completed routes) leave the hot table every minute (docs/event-store.md).
    const archiving = startArchiving(store, {
      intervalMs: 60_000,
      batchSize: 100,
      onError: (err) => app.log.warn({ err }, "archiving failed"),
    });
    cleanups.push(() => archiving.stop());
    const { router } = await openDispatch(db, store);

    const busOptions = kafkaBusOptions(config.kafka, config.role);
    const eventBus = await KafkaEventBus.open(busOptions);
    cleanups.push(() => eventBus.close());
    // Every instance shares one checkpoint: relaying in all of them would publish each batch as
    // many times. One relays; the others stand by (docs/scaling.md).
    const relay = runElected(parts, db, outboxName, config.leaseRetryMs, async () =>
      startOutbox(db, store, eventBus, { name: outboxName }),
    );
    const commands = await serveKafkaCommands(router, busOptions);
    // Stops first: the commands in hand are answered and their events still reach the outbox.
    cleanups.push(() => commands.close());
    return relay;
  });
}
