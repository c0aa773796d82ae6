import type { Transaction } from "@electric-sql/pglite";
import type { Database, Queryable, QueryOptions, QueryResult } from "./database";
import { createPglite } from "./pglite-instance";
import { memoryLeases } from "./memory-leases";
import { notificationChannel } from "./notifications";
import { pglitePreparedStatements } from "./pglite-prepared";
import { guardedDatabase } from "./transactionScope";

/**
 * PGlite is one PostgreSQL backend in this process: it runs one query at a time and holds
 * a mutex for the length of a transaction, so its own `transaction` is already correct.
 * (Run in a worker thread it measured slower: decision 0008.)
 */
export async function openPglite(dataDir?: string): Promise<Database> {
  const pglite = await createPglite(dataDir);
  const named = pglitePreparedStatements(pglite);
  const queryable = (target: typeof pglite | Transaction): Queryable => ({
    async query<R>(sql: string, params: readonly unknown[] = [], options?: QueryOptions): Promise<QueryResult<R>> {
      if (options?.name !== undefined) {
        return target === pglite
          ? named.outside<R>(options.name, sql, params)
          : named.inTransaction<R>(options.name, sql, params);
      }
      const result = await target.query<R>(sql, params as unknown[]);
      return { rows: result.rows };
    },
    async exec(sql: string): Promise<void> {
      await target.exec(sql);
    },
  });
  // This process is the database's only user: a lease is a name held in memory.
  const leases = memoryLeases();
  return guardedDatabase({
    kind: "pglite",
    outside: queryable(pglite),
    transaction: (body) => pglite.transaction((tx) => body(queryable(tx))),
    tryLease: (name) => leases.tryLease(name),
    async listen(channel, listener) {
      const stop = await pglite.listen(notificationChannel(undefined, channel), listener);
      return () => stop();
    },
    async notify(channel, payload = "") {
      await pglite.query("select pg_notify($1, $2)", [notificationChannel(undefined, channel), payload]);
    },
    close: async () => {
      leases.closeAll();
      await pglite.close();
    },
  });
}
