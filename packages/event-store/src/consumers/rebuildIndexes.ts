// A rebuild's secondary indexes: dropped while the pages fill the tables, built once before the swap.
import type { Database } from "@sluice/database";
import { quoteIdentifier, type bookkeepingTables } from "./rebuildSchema";

/** Where a rebuild keeps the indexes it dropped, in the schema it builds in (bookkeeping, never swapped in). */
export const deferredIndexesTable: (typeof bookkeepingTables)[number] = "rebuild_deferred_indexes";

/**
 * Drops the non-unique indexes of the tables in `schema` (the migrations made them), keeping their
 * definitions to build again with `buildDeferredIndexes`. Maintained row by row, page after page,
 * they cost PostgreSQL more than one build over the filled table (a sort). Unique indexes and
 * those of constraints stay: `on conflict` needs them, and they keep the rows right. Idempotent:
 * a resumed run finds them dropped and kept already.
 */
export async function deferIndexes(db: Database, schema: string): Promise<void> {
  const table = `${quoteIdentifier(schema)}.${deferredIndexesTable}`;
  await db.transaction(async (tx) => {
    // Every name qualified, the definitions too (pg_get_indexdef qualifies what the path does not reach).
    await tx.query("select set_config('search_path', 'pg_catalog', true)");
    await tx.exec(`create table if not exists ${table} (name text primary key, definition text not null)`);
    const { rows } = await tx.query<{ name: string; definition: string }>(
      `select c.relname::text as name, pg_get_indexdef(i.indexrelid) as definition
       from pg_index i
       join pg_class c on c.oid = i.indexrelid
       join pg_class t on t.oid = i.indrelid
       where t.relnamespace = (select oid from pg_namespace where nspname = $1) and t.relname <> $2
         and not i.indisunique and not i.indisprimary and not i.indisexclusion
         and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)`,
      [schema, deferredIndexesTable],
    );
    for (const { name, definition } of rows) {
      await tx.query(`insert into ${table} (name, definition) values ($1, $2) on conflict do nothing`, [
        name,
        definition,
      ]);
      await tx.exec(`drop index ${quoteIdentifier(schema)}.${quoteIdentifier(name)}`);
    }
  });
}

/**
 * Builds what `deferIndexes` dropped. On a PostgreSQL server each CONCURRENTLY: such a build takes
 * no transaction id while it sorts the table, so the log's readers (the live projection) do not
 * wait for it, as they would for a plain CREATE INDEX (its catalog rows take one at the start and
 * hold it to the end: ~0.2 s for 40,000 rows of the activity feed here, seconds for millions).
 * Nothing else uses these tables, so it waits for nobody's writes. On PGlite, where everything
 * waits for every statement anyway, a plain build. An index whose build failed (left invalid) is
 * dropped and built again by a resumed run.
 */
export async function buildDeferredIndexes(db: Database, schema: string): Promise<void> {
  const table = `${quoteIdentifier(schema)}.${deferredIndexesTable}`;
  const { rows } = await db.query<{ name: string; definition: string }>(
    `select name, definition from ${table} order by name`,
  );
  for (const { name, definition } of rows) {
    const index = `${quoteIdentifier(schema)}.${quoteIdentifier(name)}`;
    if (db.kind === "pglite") {
      await db.transaction(async (tx) => {
        await tx.exec(`drop index if exists ${index}`);
        await tx.exec(definition);
        await tx.query(`delete from ${table} where name = $1`, [name]);
      });
      continue;
    }
    // Each its own statement outside a transaction, as CONCURRENTLY must be.
    await db.exec(`drop index concurrently if exists ${index}`);
    await db.exec(definition.replace(/^CREATE INDEX /, "CREATE INDEX CONCURRENTLY "));
    await db.query(`delete from ${table} where name = $1`, [name]);
  }
}
