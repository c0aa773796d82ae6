import { organizationChannel, type Broker } from "@sluice/broker";
import type { Database } from "@sluice/database";
import { startConsumer, type EventStore, type RecordedEvent } from "@sluice/event-store";
import { eventPublication } from "./publication";

export interface SinkGatewayOptions {
  readonly db: Database;
  readonly store: EventStore;
  readonly broker: Broker;
  /** The channels an event belongs to, named as clients name them (`project:<id>`), without the organization. */
  readonly channelsOf: (event: RecordedEvent) => Promise<readonly string[]> | readonly string[];
  /** The consumer's checkpoint name. */
  readonly name?: string;
  readonly onError?: (error: unknown, event: RecordedEvent) => void;
}

export interface SinkGateway {
  stop(): Promise<void>;
  /** Resolves once every event committed before the call has been published. */
  caughtUp(): Promise<void>;
}

/**
 * Consumes the event log from its own checkpoint and publishes each event on every channel it
 * belongs to, scoped by the event's organization; the broker gives each its position there.
 *
 * The consumer only moves its checkpoint in the database (one statement). Publishing follows, in log order, once it
 * has committed and before the next batch is read, outside the transaction: `channelsOf` may read
 * the event store. A crash in between loses those publications, which is what a restart of the
 * in-memory broker does anyway: positions start a new epoch and clients refetch instead of missing.
 */
export async function startSinkGateway(options: SinkGatewayOptions): Promise<SinkGateway> {
  const { broker, channelsOf } = options;
  const name = options.name ?? "sink-gateway";
  const onError =
    options.onError ?? ((error, event) => console.error(`${name}: publishing ${event.type} failed`, error));

  async function publish(event: RecordedEvent): Promise<void> {
    try {
      const channels = await channelsOf(event);
      if (channels.length === 0) return;
      const publication = eventPublication(event);
      for (const channel of channels) {
        await broker.publish(organizationChannel(event.organizationId, channel), { ...publication, channel });
      }
    } catch (error) {
      onError(error, event);
    }
  }

  const consumer = startConsumer(options.db, options.store, {
    name,
    async afterCommit(events) {
      for (const event of events) await publish(event);
    },
  });

  return {
    stop: () => consumer.stop(),
    caughtUp: () => consumer.caughtUp(),
  };
}
