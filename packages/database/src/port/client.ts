import type { MessagePort } from "node:worker_threads";
import type { Database, Queryable, QueryOptions, QueryResult } from "../database";
import type { Lease } from "../lease";
import { guardedDatabase } from "../transactionScope";
import { deserializeError, type DatabaseRequest, type DatabaseResponse } from "./messages";

type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;
type Reply = Exclude<DatabaseResponse, { error: unknown } | { lost: number } | { notified: number }>;

/**
 * The database served on `port` by `serveDatabase` in another thread, as a Database of this one.
 * A transaction's statements go one by one and it stays open on the other side until this side's
 * body ends; the other side's database serves nothing else meanwhile on PGlite, so keep
 * transactions over a port short (the embedded shape uses it for identity's few statements).
 */
export function connectDatabase(port: MessagePort, kind: Database["kind"]): Database {
  const pending = new Map<number, { resolve: (response: Reply) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let closed = false;
  /** Leases held on the serving side, by its id for them: aborted when it says one was lost. */
  const leases = new Map<number, AbortController>();
  /** Listeners on the serving side, by its id for them. */
  const listeners = new Map<number, (payload: string) => void>();
  port.on("message", (response: DatabaseResponse) => {
    if ("notified" in response) {
      listeners.get(response.notified)?.(response.payload);
      return;
    }
    if ("lost" in response) {
      leases.get(response.lost)?.abort(new Error(response.reason));
      leases.delete(response.lost);
      return;
    }
    const call = pending.get(response.id);
    if (!call) return;
    pending.delete(response.id);
    if ("error" in response) call.reject(deserializeError(response.error));
    else call.resolve(response);
  });
  port.on("close", () => failAll("the database port closed"));

  function failAll(reason: string): void {
    closed = true;
    for (const call of pending.values()) call.reject(new Error(reason));
    pending.clear();
    for (const lost of leases.values()) lost.abort(new Error(reason));
    leases.clear();
    listeners.clear();
  }

  function send(request: WithoutId<DatabaseRequest>): Promise<Reply> {
    if (closed) return Promise.reject(new Error("the database port is closed"));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      port.postMessage({ ...request, id } as DatabaseRequest);
    });
  }

  const queryable = (tx?: number): Queryable => ({
    async query<R>(sql: string, params: readonly unknown[] = [], options?: QueryOptions): Promise<QueryResult<R>> {
      const { rows } = await send({
        op: "query",
        sql,
        params,
        ...(options?.name !== undefined && { name: options.name }),
        ...(tx !== undefined && { tx }),
      });
      return { rows: (rows ?? []) as R[] };
    },
    async exec(sql: string): Promise<void> {
      await send({ op: "exec", sql, ...(tx !== undefined && { tx }) });
    },
  });

  return guardedDatabase({
    kind,
    outside: queryable(),
    async transaction<T>(body: (tx: Queryable) => Promise<T>): Promise<T> {
      const { tx } = await send({ op: "begin" });
      if (tx === undefined) throw new Error("the database port began no transaction");
      let result: T;
      try {
        result = await body(queryable(tx));
      } catch (error) {
        await send({ op: "rollback", tx }).catch(() => {});
        throw error;
      }
      await send({ op: "commit", tx });
      return result;
    },
    async tryLease(name, options): Promise<Lease | undefined> {
      const { lease: id } = await send({ op: "lease", name, options });
      if (id === undefined) return undefined;
      const lost = new AbortController();
      leases.set(id, lost);
      return {
        name,
        lost: lost.signal,
        async release() {
          if (!leases.delete(id)) return;
          await send({ op: "release", lease: id }).catch(() => {});
        },
      };
    },
    async listen(channel, listener) {
      const { listening: id } = await send({ op: "listen", channel });
      if (id === undefined) throw new Error("the database port did not listen");
      listeners.set(id, listener);
      return async () => {
        if (!listeners.delete(id)) return;
        await send({ op: "unlisten", listening: id }).catch(() => {});
      };
    },
    async notify(channel, payload = "") {
      await send({ op: "notify", channel, payload });
    },
    async close() {
      failAll("the database was closed");
      port.close();
    },
  });
}
