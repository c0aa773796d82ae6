import type { RecordedEvent } from "@sluice/event-store";

/**
 * Handles what the bus delivers to one consumer group, in the order each stream's events were
 * recorded. Delivery is at least once: a handler meets an event twice after a crash of whatever
 * published it, and drops the second by stream and version (`StreamVersions`).
 */
export type EventHandler = (events: readonly RecordedEvent[]) => Promise<void> | void;

/**
 * Carries recorded events from the outbox to whoever reacts to them (the sink gateway,
 * projectors in the scale-out shape). Every consumer group gets every event; within a group, one
 * member handles each stream's events, in stream order. In process (embedded) or on Kafka (`KafkaEventBus`), keyed by
 * stream id.
 */
export interface EventBus {
  /** Resolves once the events are delivered (in process) or durably taken (a broker). */
  publish(events: readonly RecordedEvent[]): Promise<void>;
  /** Joins a consumer group; returns the way to leave it. */
  subscribe(group: string, handler: EventHandler): () => void;
  close(): Promise<void>;
}
