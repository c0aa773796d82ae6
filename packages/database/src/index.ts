// One Database interface over PGlite (embedded) and the PostgreSQL server (scale-out).
import type { Database, DatabaseConfig } from "./database";
import { openPglite } from "./pglite";
import { openPostgres } from "./postgres";

export type { Database, DatabaseConfig, Queryable, QueryOptions, QueryResult } from "./database";
export { migrate, type Migration } from "./migrate";
export { defaultLeaseCheckEveryMs, defaultLeaseLostAfterMs, type Lease, type LeaseOptions } from "./lease";
export {
  defaultElectionRetryMs,
  startElection,
  type ElectedWork,
  type Election,
  type ElectionOptions,
} from "./election";

/** Opens the database the configuration names; a configuration that cannot work is refused here, once. */
export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  switch (config.kind) {
    case "pglite":
      return openPglite(config.dataDir);
    case "postgres": {
      const protocol = URL.canParse(config.url) ? new URL(config.url).protocol : undefined;
      if (protocol !== "postgres:" && protocol !== "postgresql:") {
        throw new Error("database url must be postgres://user:password@host:port/database");
      }
      return openPostgres(config);
    }
    default:
      throw new Error(`unknown database kind ${JSON.stringify((config as { kind?: unknown }).kind)}`);
  }
}
export { connectDatabase } from "./port/client";
export { serveDatabase } from "./port/server";
