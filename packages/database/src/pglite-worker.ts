// The worker thread that runs PGlite for pglite.ts. PostgreSQL compiled to WebAssembly runs
// synchronously on the thread that calls it; here, that thread is not the one serving sockets.
import type { PGlite } from "@electric-sql/pglite";
import { parentPort, workerData } from "node:worker_threads";
import { createPglite } from "./pglite-instance";

export interface PgliteWorkerData {
  readonly dataDir: string | undefined;
}

export type PgliteRequest =
  | { readonly id: number; readonly op: "query"; readonly sql: string; readonly params: readonly unknown[] }
  | { readonly id: number; readonly op: "exec"; readonly sql: string }
  | { readonly id: number; readonly op: "close" };

/** A database error as plain fields (code, detail, …): an Error's own properties do not survive postMessage. */
export type PgliteFailure = { readonly message: string } & Record<string, unknown>;

export type PgliteReply =
  | { readonly id: number; readonly rows: unknown[] }
  | { readonly id: number; readonly failure: PgliteFailure }
  /** Sent once PGlite is open (id 0), or with a failure if it could not be. */
  | { readonly id: 0; readonly ready: true };

const port = parentPort;
if (!port) throw new Error("pglite-worker runs as a worker thread");
const { dataDir } = workerData as PgliteWorkerData;

function failure(error: unknown): PgliteFailure {
  if (error instanceof Error) return { ...error, message: error.message };
  return { message: String(error) };
}

let pglite: PGlite;
try {
  pglite = await createPglite(dataDir);
  port.postMessage({ id: 0, ready: true } satisfies PgliteReply);
} catch (error) {
  port.postMessage({ id: 0, failure: failure(error) } satisfies PgliteReply);
  process.exit(1);
}

port.on("message", (request: PgliteRequest) => {
  void handle(request).then((reply) => port.postMessage(reply));
});

async function handle(request: PgliteRequest): Promise<PgliteReply> {
  try {
    switch (request.op) {
      case "query":
        return { id: request.id, rows: (await pglite.query(request.sql, request.params as unknown[])).rows };
      case "exec":
        await pglite.exec(request.sql);
        return { id: request.id, rows: [] };
      case "close":
        await pglite.close();
        return { id: request.id, rows: [] };
    }
  } catch (error) {
    return { id: request.id, failure: failure(error) };
  }
}
