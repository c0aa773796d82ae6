// What the two ends of a database port say to each other. Values cross by structured clone, which
// keeps what the drivers hand out (bigint, Date, Uint8Array, parsed jsonb) as they are.
import type { LeaseOptions } from "../lease";

/** A statement or a transaction's step; `tx` names the transaction a step belongs to. */
export type DatabaseRequest =
  | {
      readonly id: number;
      readonly op: "query";
      readonly sql: string;
      readonly params: readonly unknown[];
      /** The statement's name (QueryOptions): prepared once on the serving side's connection. */
      readonly name?: string;
      readonly tx?: number;
    }
  | { readonly id: number; readonly op: "exec"; readonly sql: string; readonly tx?: number }
  | { readonly id: number; readonly op: "begin" }
  | { readonly id: number; readonly op: "commit" | "rollback"; readonly tx: number }
  | { readonly id: number; readonly op: "lease"; readonly name: string; readonly options: LeaseOptions | undefined }
  | { readonly id: number; readonly op: "release"; readonly lease: number }
  | { readonly id: number; readonly op: "listen"; readonly channel: string }
  | { readonly id: number; readonly op: "unlisten"; readonly listening: number }
  | { readonly id: number; readonly op: "notify"; readonly channel: string; readonly payload: string };

export type DatabaseResponse =
  | {
      readonly id: number;
      readonly rows?: unknown[];
      readonly tx?: number;
      readonly lease?: number;
      readonly listening?: number;
    }
  | { readonly id: number; readonly error: SerializedError }
  /** Unasked: a lease the serving side held for this side was lost. */
  | { readonly id: 0; readonly lost: number; readonly reason: string }
  /** Unasked: a notification for a listener of this side's. */
  | { readonly id: 0; readonly notified: number; readonly payload: string };

/** An error's message and its own fields (a PostgreSQL error's `code`, `detail`, `constraint`, …). */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: "Error", message: String(error), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (value === undefined || typeof value === "function" || typeof value === "object") continue;
    fields[key] = value;
  }
  return { name: error.name, message: error.message, fields };
}

export function deserializeError({ name, message, fields }: SerializedError): Error {
  const error = Object.assign(new Error(message), fields);
  error.name = name;
  return error;
}
