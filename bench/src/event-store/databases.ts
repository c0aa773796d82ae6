// Fresh PostgreSQL databases for the event-store bench: each store gets one of its own, dropped after.
import { randomBytes } from "node:crypto";
import pg from "pg";

export const serverUrl = process.env.SLUICE_BENCH_POSTGRES_URL ?? "postgres://sluice:sluice@127.0.0.1:5432/sluice";

/** The server's URL with another database name. */
export function databaseUrl(name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function onServer<T>(body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

/**
 * How commits wait for the WAL: "on" (the server's default: a commit returns once its WAL is
 * flushed to disk) or "off" (a commit returns before the flush; a server crash can lose the last
 * fraction of a second of commits, never corrupt). Set per connection, through the URL.
 */
export type SynchronousCommit = "on" | "off";

export function withSynchronousCommit(url: string, mode: SynchronousCommit): string {
  const withOptions = new URL(url);
  withOptions.searchParams.set("options", `-c synchronous_commit=${mode}`);
  return withOptions.toString();
}

export interface FreshDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

/** Names are generated here (prefix + random hex), never taken from input, so quoting is not needed. */
export async function createFreshDatabase(prefix: string): Promise<FreshDatabase> {
  const name = `${prefix}_${randomBytes(4).toString("hex")}`;
  await onServer((client) => client.query(`create database ${name}`));
  return {
    name,
    url: databaseUrl(name),
    drop: () => dropWhenFree(name),
  };
}

/**
 * Drops the database once nothing uses it: an autovacuum worker may still be in it for a while
 * (and `with (force)` needs rights over that worker's role, which the bench's user lacks).
 */
async function dropWhenFree(name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await onServer((client) => client.query(`drop database if exists ${name}`));
      return;
    } catch (error) {
      // 55006: object_in_use.
      if ((error as { code?: string }).code !== "55006" || attempt === 60) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

/** Runs SQL on one database over a connection of its own (bulk fill, vacuum, sizes). */
export async function onDatabase<T>(url: string, body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

/** The server's version and the settings that bear on commit latency. */
export async function serverSettings(): Promise<Record<string, string>> {
  return onServer(async (client) => {
    const names = [
      "server_version",
      "synchronous_commit",
      "fsync",
      "wal_sync_method",
      "shared_buffers",
      "max_wal_size",
    ];
    const settings: Record<string, string> = {};
    for (const name of names) {
      const { rows } = await client.query<Record<string, string>>(`show ${name}`);
      settings[name] = Object.values(rows[0] ?? {})[0] ?? "";
    }
    return settings;
  });
}

/** The pids of the backends connected to `database` now (asked on a connection to the server's own database). */
export async function backendPids(database: string): Promise<number[]> {
  return onServer(async (client) => {
    const { rows } = await client.query<{ pid: number }>("select pid from pg_stat_activity where datname = $1", [
      database,
    ]);
    return rows.map((row) => row.pid);
  });
}
