// What the main thread and the domain thread say on the control port; the database, commands
// and events each have a port of their own (`@sluice/database`'s and `@sluice/bus/thread`'s).
import type { MessagePort } from "node:worker_threads";

/** The worker's `workerData`. */
export interface DomainThreadData {
  /** PGlite's data directory; in memory without one. */
  readonly dataDir: string | undefined;
  readonly ports: {
    readonly control: MessagePort;
    readonly database: MessagePort;
    readonly commands: MessagePort;
    readonly events: MessagePort;
  };
}

export interface StartDomain {
  readonly kind: "start";
  readonly personalDataKey: Uint8Array | undefined;
  /** Where the demo's Dispatch data goes, when the demo is seeded. */
  readonly seed: { readonly organizationId: string; readonly userId: string } | undefined;
}

export type ToDomainThread = StartDomain | { readonly kind: "stop" } | { readonly kind: "close" };

/** What the thread answers each request with once it is done (or `failed`). */
export const replyTo = { start: "started", stop: "stopped", close: "closed" } as const;

export type FromDomainThread =
  /** The database is open and served on its port. */
  | { readonly kind: "opened" }
  | { readonly kind: "started" }
  | { readonly kind: "stopped" }
  | { readonly kind: "closed" }
  | { readonly kind: "failed"; readonly name: string; readonly message: string; readonly stack?: string | undefined }
  | { readonly kind: "log"; readonly level: "warn" | "error"; readonly message: string; readonly err?: unknown };
