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
}

export interface SinkGateway {
  stop(): Promise<void>;
  /** Resolves once every event appended before the call has been published. */
  caughtUp(): Promise<void>;
}

/**
 * Consumes the event log from its own checkpoint and publishes each event on every channel it
 * belongs to, scoped by the event's organization. Delivery is at least once: a crash between
 * publishing and saving the checkpoint publishes those events again, at new positions.
 */
export async function startSinkGateway(options: SinkGatewayOptions): Promise<SinkGateway> {
  const { broker, channelsOf } = options;
  const consumer = await startConsumer(options.db, options.store, {
    name: options.name ?? "sink-gateway",
    async handle(events: readonly RecordedEvent[]) {
      for (const event of events) {
        const channels = await channelsOf(event);
        if (channels.length === 0) continue;
        const publication = eventPublication(event);
        for (const channel of channels) {
          await broker.publish(organizationChannel(event.organizationId, channel), { ...publication, channel });
        }
      }
    },
  });
  return consumer;
}
