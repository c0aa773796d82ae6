import type { RecordedEvent } from "@sluice/event-store";
import type { EventBus, EventHandler } from "./event-bus";

/**
 * The embedded shape's event bus: every consumer group is a handler in this process, so
 * publishing is calling each in turn, in order. A handler that throws is logged and does not
 * hold up the others: each group answers for its own failures, as it would on a broker.
 */
export class InProcessEventBus implements EventBus {
  readonly #groups = new Map<string, EventHandler>();

  async publish(events: readonly RecordedEvent[]): Promise<void> {
    if (events.length === 0) return;
    for (const [group, handler] of this.#groups) {
      try {
        await handler(events);
      } catch (error) {
        console.error(`event bus: consumer group ${group} failed on a batch of ${events.length}`, error);
      }
    }
  }

  subscribe(group: string, handler: EventHandler): () => void {
    if (this.#groups.has(group)) throw new Error(`consumer group ${group} already has a member in this process`);
    this.#groups.set(group, handler);
    return () => {
      if (this.#groups.get(group) === handler) this.#groups.delete(group);
    };
  }

  async close(): Promise<void> {
    this.#groups.clear();
  }
}
