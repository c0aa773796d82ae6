import type { Database } from "./database";

export interface Migration {
  /** Namespaced by its module and ordered within it: "event-store/001-init". */
  readonly id: string;
  readonly sql: string;
}

/** Any constant works; all that matters is that every migrating process takes the same one. */
const MIGRATION_LOCK = 7_361_527_001;

/**
 * Applies the migrations not applied yet, in the order given, each in its own transaction with
 * its id recorded. Several modules (and several processes) may call it: a transaction-scoped
 * advisory lock makes them take turns, and each re-checks what is applied once it holds it.
 */
export async function migrate(db: Database, migrations: readonly Migration[]): Promise<string[]> {
  const seen = new Set<string>();
  for (const migration of migrations) {
    if (seen.has(migration.id)) throw new Error(`migration ${migration.id} is listed twice`);
    seen.add(migration.id);
  }
  const applied: string[] = [];
  for (const migration of migrations) {
    const ran = await db.transaction(async (tx) => {
      await tx.query("select pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
      await tx.exec(
        "create table if not exists schema_migrations (id text primary key, applied_at timestamptz not null default now())",
      );
      const done = await tx.query("select 1 from schema_migrations where id = $1", [migration.id]);
      if (done.rows.length > 0) return false;
      await tx.exec(migration.sql);
      await tx.query("insert into schema_migrations (id) values ($1)", [migration.id]);
      return true;
    });
    if (ran) applied.push(migration.id);
  }
  return applied;
}
