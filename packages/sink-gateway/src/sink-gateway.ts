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
 * The bus delivers at least once: an event seen already in its stream is dropped here, and one
 * this process has not seen (it restarted, or took over another's partitions) is dropped by the
 * broker, which knows what each channel carries, so a channel never carries one twice. A failed
 * publish fails the batch, which the bus hands on again: an event is never skipped for an outage.
 */
export async function startSinkGateway(options: SinkGatewayOptions): Promise<SinkGateway> {
  const { broker, channelsOf } = options;
  const group = options.group ?? "sink-gateway";
  const onError =
    options.onError ?? ((error, event) => console.error(`${group}: publishing ${event.type} failed`, error));
  const seen = new StreamVersions();

  async function publish(event: RecordedEvent): Promise<void> {
    let channels: readonly string[];
    let publication: ReturnType<typeof eventPublication>;
    try {
      channels = await channelsOf(event);
      if (channels.length === 0) return;
      publication = eventPublication(event);
    } catch (error) {
      // This event cannot be published however often it comes: reported, and the next ones go.
      onError(error, event);
      return;
    }
    for (const channel of channels) {
      await broker.publish(organizationChannel(event.organizationId, channel), { ...publication, channel });
    }
  }

  const leave = options.bus.subscribe(group, async (events) => {
    for (const event of events) {
      if (seen.seen(event)) continue;
      try {
        await publish(event);
      } catch (error) {
        // The broker failed (Redis out of reach): throwing makes the bus hand the batch on again,
        // so the event is not lost, as it was when it was only reported. Not remembered as seen, so
        // the redelivery publishes it; what this batch did publish, the broker drops as repeats.
        onError(error, event);
        throw error;
      }
      seen.remember(event);
    }
  });
  return {
    async stop() {
      leave();
    },
  };
}
