// For tests only: the backends a contract suite runs against, each database fresh and dropped after.
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { Database, Queryable } from "./database";
import { connectDatabase, openDatabase, serveDatabase } from "./index";
import { MessageChannel } from "node:worker_threads";
import { leaseKey } from "./postgres-lease";

export const postgresTestUrl = process.env.SLUICE_TEST_POSTGRES_URL ?? "postgres://sluice:sluice@127.0.0.1:5432/sluice";

export interface TestBackend {
  readonly name: "pglite" | "postgres";
  /** A reason to skip the suite: only when the server is unreachable and CI is not "true". */
  readonly skip: string | false;
  /** A database of its own: in memory for PGlite, a fresh schema (dropped on close) on PostgreSQL. */
  open(): Promise<Database>;
}

async function postgresReachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A database of its own on the test server: a fresh schema, dropped on close. */
export async function openPostgresTestDatabase(): Promise<Database> {
  const deployment = oneSchemaManyProcesses("test");
  const db = await deployment.open(4);
  return { ...db, close: () => deployment.cleanUp() };
}

/**
 * PGlite served on a message port, as the embedded shape's main thread reaches its domain thread's
 * database: the same contract, through `connectDatabase` and `serveDatabase`.
 */
export const pgliteOverAPort: Omit<TestBackend, "name"> & { readonly name: string } = {
  name: "pglite over a message port",
  skip: false,
  async open(): Promise<Database> {
    const served = await openDatabase({ kind: "pglite" });
    const { port1, port2 } = new MessageChannel();
    serveDatabase(served, port2);
    const db = connectDatabase(port1, "pglite");
    return { ...db, close: async () => (await db.close(), await served.close()) };
  },
};

/**
 * Databases on one fresh schema of the test server, each a pool of its own: several processes of
 * one deployment, as the server sees them. `cleanUp` closes them and drops the schema.
 */
export function oneSchemaManyProcesses(prefix: string) {
  const schema = `${prefix}_${randomBytes(6).toString("hex")}`;
  const opened: Database[] = [];
  return {
    schema,
    async open(maxConnections = 2): Promise<Database> {
      const db = await openDatabase({ kind: "postgres", url: postgresTestUrl, schema, maxConnections });
      opened.push(db);
      return db;
    },
    async cleanUp(): Promise<void> {
      await Promise.all(opened.splice(0).map((db) => db.close()));
      const admin = await openDatabase({ kind: "postgres", url: postgresTestUrl, maxConnections: 1 });
      try {
        await admin.exec(`drop schema if exists ${schema} cascade`);
      } finally {
        await admin.close();
      }
    },
  };
}

export async function testBackends(): Promise<TestBackend[]> {
  const reachable = await postgresReachable(postgresTestUrl);
  const skip = reachable || process.env.CI === "true" ? false : `PostgreSQL unreachable at ${postgresTestUrl}`;
  return [
    { name: "pglite", skip: false, open: () => openDatabase({ kind: "pglite" }) },
    { name: "postgres", skip, open: () => openPostgresTestDatabase() },
  ];
}

/**
 * The server processes holding the lease `name` of the schema `db` works in (PostgreSQL): each
 * is a session, and ending one (`pg_terminate_backend`) is how tests cut a holder's connection.
 */
export async function leaseHolderPids(db: Queryable, name: string): Promise<number[]> {
  const { rows: schema } = await db.query<{ name: string }>("select current_schema() as name");
  const key = leaseKey(schema[0]!.name, name);
  // A bigint advisory key shows in pg_locks as its high and low 32 bits.
  const { rows } = await db.query<{ pid: number }>(
    `select pid from pg_locks
     where locktype = 'advisory' and objsubid = 1 and granted
       and database = (select oid from pg_database where datname = current_database())
       and classid = $1::int8::oid and objid = $2::int8::oid`,
    [BigInt.asUintN(32, key >> 32n).toString(), BigInt.asUintN(32, key).toString()],
  );
  return rows.map((row) => row.pid);
}

/** Ends the sessions holding the lease (see leaseHolderPids); returns how many there were. */
export async function terminateLeaseHolders(db: Queryable, name: string): Promise<number> {
  const pids = await leaseHolderPids(db, name);
  for (const pid of pids) await db.query("select pg_terminate_backend($1)", [pid]);
  return pids.length;
}
