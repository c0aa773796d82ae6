import pg from "pg";
import { notificationChannel, postgresNotifications } from "./notifications";
import { postgresLeases } from "./postgres-lease";
import { guardedDatabase } from "./transactionScope";
import { INT8_OID, XID8_OID, type Database, type Queryable, type QueryOptions, type QueryResult } from "./database";

const toBigInt = (value: string): bigint => BigInt(value);

const TIMESTAMPTZ_OID = 1184;
const parseTimestamptzText = pg.types.getTypeParser(TIMESTAMPTZ_OID, "text") as (text: string) => Date | number;
let lastTimestamptz: { readonly text: string; readonly value: Date | number } | undefined;
/**
 * timestamptz as pg parses it (a Date, or ±Infinity), but a text equal to the one before is not
 * parsed again: the log is read in runs of rows with one timestamp (an append's transaction
 * stamps all its events with its start), and the parse was ~0.7 µs of a rebuild's Node CPU per
 * event. A Date of its own each time, since a caller may change its copy.
 */
function parseTimestamptz(text: string): Date | number {
  if (lastTimestamptz?.text !== text) lastTimestamptz = { text, value: parseTimestamptzText(text) };
  const { value } = lastTimestamptz;
  return value instanceof Date ? new Date(value.getTime()) : value;
}

/** Per pool, not global: other users of `pg` in the process keep their own parsing. */
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === INT8_OID || oid === XID8_OID) return toBigInt;
    if (oid === TIMESTAMPTZ_OID && format !== "binary") return parseTimestamptz;
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A pool of connections to a PostgreSQL server; a transaction holds one of them until it ends. */
export async function openPostgres(config: {
  url: string;
  schema?: string | undefined;
  maxConnections?: number | undefined;
}): Promise<Database> {
  if (config.schema !== undefined) {
    // Created on a connection of its own: the pool's connections need it in their search_path from the start.
    const client = new pg.Client({ connectionString: config.url });
    await client.connect();
    try {
      await client.query(`create schema if not exists ${quoteIdentifier(config.schema)}`);
    } catch (error) {
      // Processes starting together race on `if not exists`: the loser's insert into the catalog
      // fails (unique_violation, or duplicate_schema) although the schema it wanted is there.
      const code = (error as { code?: string }).code;
      if (code !== "23505" && code !== "42P06") throw error;
    } finally {
      await client.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.maxConnections ?? 10,
    types,
    ...(config.schema === undefined ? {} : { options: `-c search_path=${quoteIdentifier(config.schema)}` }),
  });
  // An idle connection that the server drops must not crash the process; the pool replaces it.
  pool.on("error", (error) => console.error("postgres: an idle connection failed", error.message));
  // pg checks a name against its SQL only on connections that prepared it: checked here for all.
  const statements = new Map<string, string>();
  const queryable = (target: pg.Pool | pg.PoolClient): Queryable => ({
    async query<R>(sql: string, params: readonly unknown[] = [], options?: QueryOptions): Promise<QueryResult<R>> {
      if (options?.name !== undefined) {
        const known = statements.get(options.name);
        if (known === undefined) statements.set(options.name, sql);
        else if (known !== sql) throw new Error(`statement ${options.name} is prepared for other SQL`);
      }
      // pg keeps each connection's named statements: Parse goes once per connection, then only Bind.
      const result = await target.query({
        text: sql,
        values: params as unknown[],
        ...(options?.name !== undefined && { name: options.name }),
      });
      return { rows: result.rows as R[] };
    },
    async exec(sql: string): Promise<void> {
      // Without parameters pg uses the simple protocol, which runs several statements.
      await target.query(sql);
    },
  });
  const leases = postgresLeases(config);
  const notifications = postgresNotifications(config);
  return guardedDatabase({
    kind: "postgres",
    outside: queryable(pool),
    async transaction(body) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query("begin");
        const result = await body(queryable(client));
        await client.query("commit");
        return result;
      } catch (error) {
        try {
          await client.query("rollback");
        } catch (rollbackError) {
          // A connection that cannot roll back is not given back to the pool.
          broken = rollbackError as Error;
        }
        throw error;
      } finally {
        client.release(broken);
      }
    },
    tryLease: (name, options) => leases.tryLease(name, options),
    listen: (channel, listener) => notifications.listen(notificationChannel(config.schema, channel), listener),
    async notify(channel, payload = "") {
      await pool.query("select pg_notify($1, $2)", [notificationChannel(config.schema, channel), payload]);
    },
    close: async () => {
      leases.closeAll();
      await notifications.close();
      await pool.end();
    },
  });
}
