import type { RecordedEvent } from "@sluice/event-store";

/**
 * The last version a consumer saw of each stream, to drop what an at-least-once bus delivers
 * twice. Bounded: the streams heard from least recently are forgotten first, and a duplicate of
 * a forgotten stream gets through. Redeliveries follow a crash by seconds, long before a stream
 * active then is forgotten among `capacity` others.
 */
export class StreamVersions {
  readonly #capacity: number;
  readonly #versions = new Map<string, bigint>();

  constructor(capacity = 100_000) {
    this.#capacity = capacity;
  }

  /** True, and remembered, when the event is later in its stream than anything seen of it. */
  isNew(event: Pick<RecordedEvent, "streamId" | "streamVersion">): boolean {
    if (this.seen(event)) return false;
    this.remember(event);
    return true;
  }

  /** True when the event is not later in its stream than what was remembered of it. */
  seen(event: Pick<RecordedEvent, "streamId" | "streamVersion">): boolean {
    const seen = this.#versions.get(event.streamId);
    return seen !== undefined && event.streamVersion <= seen;
  }

  /** Remembers the event as the latest seen of its stream. */
  remember(event: Pick<RecordedEvent, "streamId" | "streamVersion">): void {
    // Delete first: a Map iterates in insertion order, so the oldest entry is the least recent.
    this.#versions.delete(event.streamId);
    this.#versions.set(event.streamId, event.streamVersion);
    if (this.#versions.size > this.#capacity) this.#versions.delete(this.#versions.keys().next().value!);
  }
}
