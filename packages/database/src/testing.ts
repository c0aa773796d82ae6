// For tests only: the backends a contract suite runs against, each database fresh and dropped after.
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { Database } from "./database";
import { openDatabase } from "./index";

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

export async function openPostgresTestDatabase(url = postgresTestUrl): Promise<Database> {
  const schema = `test_${randomBytes(6).toString("hex")}`;
  const db = await openDatabase({ kind: "postgres", url, schema, maxConnections: 4 });
  return {
    ...db,
    async close() {
      await db.close();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await client.end();
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
