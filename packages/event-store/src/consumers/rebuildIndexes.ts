// A rebuild's secondary indexes: dropped while the pages fill the tables, built once before the swap.
import type { Database } from "@sluice/database";
import { quoteIdentifier, type bookkeepingTables } from "./rebuildSchema";

/** Where a rebuild keeps the indexes it dropped, in the schema it builds in (bookkeeping, never swapped in). */
export const deferredIndexesTable: (typeof bookkeepingTables)[number] = "rebuild_deferred_indexes";

/**
 * Drops the non-unique indexes of the tables in `building`'s schema (the migrations made them),
 * keeping their definitions to build again with `buildDeferredIndexes`. Maintained row by row,
 * page after page, they cost PostgreSQL more than one build over the filled table (a sort). Unique
 * indexes and those of constraints stay: `on conflict` needs them, and they keep the rows right.
 * Idempotent: a resumed run finds them dropped and kept already.
 */
export async function deferIndexes(building: Database): Promise<void> {
  await building.transaction(async (tx) => {
    await tx.exec(`create table if not exists ${deferredIndexesTable} (name text primary key, definition text not null)`);
    // The definitions name their tables unqualified: the search path is the building schema alone.
    const { rows } = await tx.query<{ name: string; definition: string }>(
      `select c.relname::text as name, pg_get_indexdef(i.indexrelid) as definition
       from pg_index i
       join pg_class c on c.oid = i.indexrelid
       join pg_class t on t.oid = i.indrelid
       where t.relnamespace = current_schema()::regnamespace and t.relname <> $1
         and not i.indisunique and not i.indisprimary and not i.indisexclusion
         and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)`,
      [deferredIndexesTable],
    );
    for (const { name, definition } of rows) {
      await tx.query(`insert into ${deferredIndexesTable} (name, definition) values ($1, $2) on conflict do nothing`, [
        name,
        definition,
      ]);
      await tx.exec(`drop index ${quoteIdentifier(name)}`);
    }
  });
}

/**
 * Builds what `deferIndexes` dropped, one transaction each (so a crash meanwhile leaves the rest
 * to a resumed run). Each build holds its transaction id while it sorts the table, and with it
 * the log's readers (the live projection): once, for as long as a build takes (measured in
 * docs/benchmarks.md), rather than a little in every page.
 */
export async function buildDeferredIndexes(building: Database): Promise<void> {
  const { rows } = await building.query<{ name: string; definition: string }>(
    `select name, definition from ${deferredIndexesTable} order by name`,
  );
  for (const { name, definition } of rows) {
    await building.transaction(async (tx) => {
      await tx.exec(definition);
      await tx.query(`delete from ${deferredIndexesTable} where name = $1`, [name]);
    });
  }
}
