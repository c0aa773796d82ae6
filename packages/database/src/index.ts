// One Database interface over PGlite (embedded) and the PostgreSQL server (scale-out).
import type { Database, DatabaseConfig } from "./database";
import { openPglite } from "./pglite";
import { openPostgres } from "./postgres";

export type { Database, DatabaseConfig, Queryable, QueryResult } from "./database";
export { migrate, type Migration } from "./migrate";

export function openDatabase(config: DatabaseConfig): Promise<Database> {
  switch (config.kind) {
    case "pglite":
      return openPglite(config.dataDir);
    case "postgres":
      return openPostgres(config);
  }
}
