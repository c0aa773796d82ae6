import { Worker } from "node:worker_threads";
import type { Queryable, QueryResult, Database } from "./database";
import type { PgliteFailure, PgliteReply, PgliteRequest, PgliteWorkerData } from "./pglite-worker";
import { guardedDatabase } from "./transactionScope";

type Request = PgliteRequest extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never;

/**
 * PGlite, the embedded shape's PostgreSQL, in a worker thread of its own. WebAssembly runs
 * synchronously, so in this thread every statement (a batch of read-model writes takes tens of
 * milliseconds) would stall every socket; in a worker it stalls none, and uses the second core.
 *
 * PGlite is one backend: it runs one statement at a time, in the order sent. A transaction is
 * BEGIN … COMMIT sent in order, with the database's other queries held here until it ends, so
 * nothing from outside lands inside it.
 */
export async function openPglite(dataDir?: string): Promise<Database> {
  const worker = new Worker(new URL("./pglite-worker.mjs", import.meta.url), {
    workerData: { dataDir } satisfies PgliteWorkerData,
  });
  const pending = new Map<number, { resolve(rows: unknown[]): void; reject(error: Error): void }>();
  let nextId = 1;
  let gone: Error | undefined;

  const failed = (f: PgliteFailure) => Object.assign(new Error(f.message), f);
  const settleAll = (error: Error) => {
    gone ??= error;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  const ready = new Promise<void>((resolve, reject) => {
    worker.on("message", (reply: PgliteReply) => {
      if (reply.id === 0) {
        if ("failure" in reply) reject(failed(reply.failure));
        else resolve();
        return;
      }
      const waiting = pending.get(reply.id);
      pending.delete(reply.id);
      // The thread keeps the process alive only while a statement is in flight, as PGlite in process did.
      if (pending.size === 0) worker.unref();
      if ("failure" in reply) waiting?.reject(failed(reply.failure));
      else if ("rows" in reply) waiting?.resolve(reply.rows);
    });
    worker.on("error", (error) => {
      reject(error);
      settleAll(error);
    });
    worker.on("exit", (code) => {
      const error = new Error(`the PGlite worker exited (code ${code})`);
      reject(error);
      settleAll(error);
    });
  });
  await ready;
  worker.unref();

  function send(request: Request): Promise<unknown[]> {
    if (gone) return Promise.reject(gone);
    const id = nextId++;
    return new Promise<unknown[]>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ ...request, id } as PgliteRequest);
    });
  }

  const direct: Queryable = {
    async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      return { rows: (await send({ op: "query", sql, params })) as R[] };
    },
    async exec(sql: string): Promise<void> {
      await send({ op: "exec", sql });
    },
  };

  // The transaction in progress, if any: queries from outside it wait for it to end.
  let current: Promise<void> | undefined;
  async function turn(): Promise<void> {
    while (current) await current;
  }

  return guardedDatabase({
    kind: "pglite",
    outside: {
      async query<R>(sql: string, params?: readonly unknown[]) {
        await turn();
        return direct.query<R>(sql, params);
      },
      async exec(sql: string) {
        await turn();
        return direct.exec(sql);
      },
    },
    async transaction(body) {
      await turn();
      let end!: () => void;
      current = new Promise<void>((resolve) => (end = resolve));
      try {
        await direct.exec("begin");
        let result;
        try {
          result = await body(direct);
        } catch (error) {
          await direct.exec("rollback").catch(() => undefined);
          throw error;
        }
        await direct.exec("commit");
        return result;
      } finally {
        current = undefined;
        end();
      }
    },
    async close() {
      await turn();
      if (!gone) await send({ op: "close" }).catch(() => undefined);
      gone ??= new Error("the database is closed");
      // Held until it has exited: an unreferenced worker would let the process end first.
      worker.ref();
      await worker.terminate();
    },
  });
}
