import type { Lease, LeaseOptions } from "./lease";

/** What a query gives back: the rows, typed by the caller. int8 and xid8 columns arrive as bigint. */
export interface QueryResult<R> {
  readonly rows: R[];
}

/** How a query is sent. */
export interface QueryOptions {
  /**
   * Prepares the statement under this name on each connection the first time it runs there, and
   * runs it by name from then on: the server parses and plans it once per connection, not on every
   * call (decision 0014). For statements run often; one name is one SQL text, in the whole process.
   */
  readonly name?: string;
}

/** What a transaction and a database have in common: parameterized queries and raw SQL scripts. */
export interface Queryable {
  /** One statement, parameters bound as $1, $2, …; strings pass as text (cast in SQL: `$1::jsonb`). */
  query<R = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<R>>;
  /** One or more statements separated by semicolons, without parameters (migrations, DDL). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: DatabaseConfig["kind"];
  /**
   * Runs `fn` in one transaction: COMMIT when it resolves, ROLLBACK when it throws (and rethrows).
   * Inside `fn`, use `tx` only: on PGlite the database itself waits until the transaction ends.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Takes the lease named `name` if no one holds it (one try, no waiting); undefined when another
   * holder has it. On PostgreSQL, one connection per lease held, outside the pool (`lease.ts`).
   */
  tryLease(name: string, options?: LeaseOptions): Promise<Lease | undefined>;
  /**
   * Calls `listener` with the payload of every `notify` on `channel` from now on, by any process
   * on this database, each once the statement that sent it has ended; until the returned function
   * is called. Channels are per schema, like leases. At most once: on PostgreSQL, what is sent
   * while its listening connection is being made again is missed, so a listener also polls.
   */
  listen(channel: string, listener: (payload: string) => void): Promise<() => Promise<void>>;
  /** Tells the channel's listeners (`pg_notify`), in a statement of its own, so never in a transaction. */
  notify(channel: string, payload?: string): Promise<void>;
  /** Closes the connections; leases still held are lost. */
  close(): Promise<void>;
}

export type DatabaseConfig =
  /** Embedded PostgreSQL (WebAssembly, in process). In memory without `dataDir`. */
  | { readonly kind: "pglite"; readonly dataDir?: string | undefined }
  /**
   * A PostgreSQL server. `schema`, when given, is created if missing and becomes every
   * connection's search_path: tests and tenants of one server keep their tables apart.
   */
  | {
      readonly kind: "postgres";
      readonly url: string;
      readonly schema?: string | undefined;
      readonly maxConnections?: number | undefined;
    };

/** The type ids both drivers parse the same way: int8 and xid8 become bigint. */
export const INT8_OID = 20;
export const XID8_OID = 5069;
