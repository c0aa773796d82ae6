import { organizationChannel, type Broker } from "@sluice/broker";
import { StreamVersions, type EventBus } from "@sluice/bus";
import type { RecordedEvent } from "@sluice/event-store";
import { eventPublication } from "./publication";

export interface SinkGatewayOptions {
  readonly bus: EventBus;
  readonly broker: Broker;
  /** The channels an event belongs to, named as clients name them (`project:<id>`), without the organization. */
  readonly channelsOf: (event: RecordedEvent) => Promise<readonly string[]> | readonly string[];
  /** Its consumer group on the event bus. */
  readonly group?: string;
  readonly onError?: (error: unknown, event: RecordedEvent) => void;
}

export interface SinkGateway {
  stop(): Promise<void>;
}

/**
 * Takes the events the outbox hands to the event bus and publishes each on every channel it
 * belongs to, scoped by the event's organization; the broker gives each its position there.
 * The bus delivers at least once: an event seen already in its stream is dropped, so a channel
 * never carries one twice.
 */
export async function startSinkGateway(options: SinkGatewayOptions): Promise<SinkGateway> {
  const { broker, channelsOf } = options;
  const group = options.group ?? "sink-gateway";
  const onError =
    options.onError ?? ((error, event) => console.error(`${group}: publishing ${event.type} failed`, error));
  const seen = new StreamVersions();

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

  const leave = options.bus.subscribe(group, async (events) => {
    for (const event of events) if (seen.isNew(event)) await publish(event);
  });
  return {
    async stop() {
      leave();
    },
  };
}
