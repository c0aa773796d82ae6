import { createHash } from "node:crypto";
import pg from "pg";
import { defaultLeaseCheckEveryMs, defaultLeaseLostAfterMs, type Lease, type LeaseOptions } from "./lease";

/**
 * The advisory lock key of a lease: advisory locks are per database, not per schema, so the key
 * names the schema too, and deployments (and tests) sharing one database in schemas of their own
 * do not take each other's leases. A 64-bit hash: a clash with another lock's key is negligible.
 */
export function leaseKey(schema: string | undefined, name: string): bigint {
  return createHash("sha256")
    .update(`sluice-lease\u0000${schema ?? "public"}\u0000${name}`)
    .digest()
    .readBigInt64BE(0);
}

export interface PostgresLeaseTarget {
  readonly url: string;
  readonly schema?: string | undefined;
}

/**
 * Leases on a PostgreSQL server, each a session-level `pg_try_advisory_lock` on a connection of
 * its own. `closeAll` ends the connections of those still held (the database is closing).
 */
export function postgresLeases(target: PostgresLeaseTarget) {
  const held = new Set<{ drop(reason: Error): void }>();
  return {
    async tryLease(name: string, options: LeaseOptions = {}): Promise<Lease | undefined> {
      const lease = await tryPostgresLease(target, name, options, (entry) => held.delete(entry));
      if (lease) held.add(lease.entry);
      return lease?.lease;
    },
    closeAll(): void {
      for (const entry of [...held]) entry.drop(new Error("the database was closed"));
    },
  };
}

async function tryPostgresLease(
  target: PostgresLeaseTarget,
  name: string,
  options: LeaseOptions,
  forget: (entry: { drop(reason: Error): void }) => void,
): Promise<{ lease: Lease; entry: { drop(reason: Error): void } } | undefined> {
  const checkEveryMs = options.checkEveryMs ?? defaultLeaseCheckEveryMs;
  const lostAfterMs = options.lostAfterMs ?? defaultLeaseLostAfterMs;
  // The server must not drop a silent holder's session (freeing the lock for another) before the
  // holder itself has given up, which takes up to checkEveryMs + lostAfterMs: twice that here.
  // Keepalives cover a session with nothing to send, the user timeout one whose replies go unacknowledged.
  const serverGivesUpMs = 2 * (checkEveryMs + lostAfterMs);
  const client = new pg.Client({
    connectionString: target.url,
    application_name: `sluice lease ${name}`.slice(0, 63),
    connectionTimeoutMillis: lostAfterMs,
    options: [
      `-c tcp_keepalives_idle=${Math.ceil(serverGivesUpMs / 1000)}`,
      "-c tcp_keepalives_interval=1",
      "-c tcp_keepalives_count=3",
      `-c tcp_user_timeout=${serverGivesUpMs}`,
    ].join(" "),
  });
  // Until held, an error is the caller's (connect or query rejects); afterwards it loses the lease.
  let onConnectionError: (error: Error) => void = () => {};
  client.on("error", (error) => onConnectionError(error));
  client.on("end", () => onConnectionError(new Error("the lease's connection ended")));

  const key = leaseKey(target.schema, name).toString();
  try {
    await client.connect();
    const { rows } = await client.query<{ held: boolean }>("select pg_try_advisory_lock($1::int8) as held", [key]);
    if (!rows[0]?.held) {
      await client.end();
      return undefined;
    }
  } catch (error) {
    void client.end().catch(() => undefined);
    throw error;
  }

  const lost = new AbortController();
  let over = false;
  let checkTimer: NodeJS.Timeout | undefined;

  const entry = {
    drop(reason: Error) {
      if (over) return;
      over = true;
      clearTimeout(checkTimer);
      forget(entry);
      lost.abort(reason);
      // Ends the session if it is still there (a check that went unanswered): the lock goes with it.
      void client.end().catch(() => undefined);
    },
  };
  onConnectionError = (error) => entry.drop(error);

  const check = () => {
    checkTimer = setTimeout(async () => {
      const silent = setTimeout(
        () => entry.drop(new Error(`the lease's connection did not answer within ${lostAfterMs} ms`)),
        lostAfterMs,
      );
      try {
        await client.query("select 1");
        clearTimeout(silent);
        if (!over) check();
      } catch (error) {
        clearTimeout(silent);
        entry.drop(error as Error);
      }
    }, checkEveryMs);
  };
  check();

  let releasing: Promise<void> | undefined;
  const lease: Lease = {
    name,
    lost: lost.signal,
    release() {
      releasing ??= (async () => {
        if (over) return;
        over = true;
        clearTimeout(checkTimer);
        forget(entry);
        try {
          // Unlocked before the connection ends: the next holder need not wait for the session to go.
          await client.query("select pg_advisory_unlock($1::int8)", [key]);
        } catch {
          // The session is going or gone, and the lock with it.
        }
        await client.end().catch(() => undefined);
      })();
      return releasing;
    },
  };
  return { lease, entry };
}
