import type { MessagePort } from "node:worker_threads";
import type { RecordedEvent } from "@sluice/event-store";
import type { EventBus } from "../event-bus";
import { InProcessEventBus } from "../in-process-event-bus";
import { decodeEvent, encodeEvent } from "../records/event-record";

type ThreadEventMessage =
  | { readonly kind: "events"; readonly id: number; readonly records: readonly Uint8Array[] }
  | { readonly kind: "delivered"; readonly id: number };

/**
 * An event bus between two threads of one process, one instance at each end of a message port.
 * Events published at one end reach the consumer groups subscribed at the other as the same event
 * records the Kafka bus carries, and `publish` resolves once they have handled them, so the
 * publisher (the outbox) moves its checkpoint only past delivered events. Groups at the
 * publishing end hear nothing: in the embedded shape the write side's thread publishes and the
 * main thread's sink gateway consumes.
 */
export class ThreadEventBus implements EventBus {
  readonly #port: MessagePort;
  readonly #groups = new InProcessEventBus();
  readonly #awaiting = new Map<number, { resolve(): void; reject(error: Error): void }>();
  #nextId = 1;
  #closed = false;

  constructor(port: MessagePort) {
    this.#port = port;
    port.on("message", (message: ThreadEventMessage) => void this.#receive(message));
    port.on("close", () => this.#failAll());
  }

  async publish(events: readonly RecordedEvent[]): Promise<void> {
    if (events.length === 0) return;
    if (this.#closed) throw new Error("event bus is closed");
    const id = this.#nextId++;
    const records = events.map(encodeEvent);
    const delivered = new Promise<void>((resolve, reject) => this.#awaiting.set(id, { resolve, reject }));
    this.#port.postMessage({ kind: "events", id, records } satisfies ThreadEventMessage);
    await delivered;
  }

  subscribe(group: string, handler: (events: readonly RecordedEvent[]) => Promise<void> | void): () => void {
    return this.#groups.subscribe(group, handler);
  }

  async #receive(message: ThreadEventMessage): Promise<void> {
    if (message.kind === "delivered") {
      this.#awaiting.get(message.id)?.resolve();
      this.#awaiting.delete(message.id);
      return;
    }
    // A record that does not decode is a bug at the other end of this process: fail loudly, deliver the rest.
    const events: RecordedEvent[] = [];
    for (const record of message.records) {
      try {
        events.push(decodeEvent(record));
      } catch (error) {
        console.error("event bus: skipped an event record from the other thread", error);
      }
    }
    await this.#groups.publish(events);
    if (!this.#closed) this.#port.postMessage({ kind: "delivered", id: message.id } satisfies ThreadEventMessage);
  }

  #failAll(): void {
    this.#closed = true;
    for (const { reject } of this.#awaiting.values()) reject(new Error("the other thread's event bus is gone"));
    this.#awaiting.clear();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#failAll();
    await this.#groups.close();
    this.#port.close();
  }
}
