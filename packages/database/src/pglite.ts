import { PGlite, type Transaction } from "@electric-sql/pglite";
import { INT8_OID, XID8_OID, type Database, type Queryable, type QueryResult } from "./database";

/**
 * PGlite is one PostgreSQL backend in this process: it runs one query at a time and holds
 * a mutex for the length of a transaction, so its own `transaction` is already correct.
 */
export async function openPglite(dataDir?: string): Promise<Database> {
  const pglite = await PGlite.create({
    ...(dataDir === undefined ? {} : { dataDir }),
    parsers: { [XID8_OID]: (value: string) => BigInt(value), [INT8_OID]: (value: string) => BigInt(value) },
  });
  const queryable = (target: PGlite | Transaction): Queryable => ({
    async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const result = await target.query<R>(sql, params as unknown[]);
      return { rows: result.rows };
    },
    async exec(sql: string): Promise<void> {
      await target.exec(sql);
    },
  });
  return {
    kind: "pglite",
    ...queryable(pglite),
    transaction: (fn) => pglite.transaction((tx) => fn(queryable(tx))),
    close: () => pglite.close(),
  };
}
