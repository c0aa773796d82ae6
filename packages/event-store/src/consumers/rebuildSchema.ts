// Where a rebuild builds (a schema beside the live one) and how its tables take the live ones' place.
import { createHash } from "node:crypto";
import type { Database, Queryable } from "@sluice/database";

export const quoteIdentifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** The rebuild's own bookkeeping in the schema it builds in; never moved into the live schema. */
export const bookkeepingTables = ["consumer_checkpoints", "schema_migrations"] as const;

export interface RebuildSchemas {
  /** Where the event store and the live projection's tables are: the first schema on the search path. */
  readonly live: string;
  /** Where the new tables are built. */
  readonly building: string;
  /** Where the live tables go at the swap, dropped right after. */
  readonly retired: string;
}

/**
 * One pair of schemas per live schema and projection, the same every run, so that a run started
 * again finds what an interrupted one left. Short hex names: valid identifiers whatever the names.
 */
export async function rebuildSchemas(db: Database, projection: string): Promise<RebuildSchemas> {
  const { rows } = await db.query<{ schema: string | null }>("select current_schema() as schema");
  const live = rows[0]?.schema;
  if (!live) throw new Error("the database has no schema on its search path to rebuild beside");
  const tag = createHash("sha256").update(`${live}\u0000${projection}`).digest("hex").slice(0, 12);
  return { live, building: `rebuild_${tag}`, retired: `retired_${tag}` };
}

/**
 * The database seen from a schema: every query runs in a transaction whose search path is that
 * schema alone, so unqualified names (the projection's SQL, its migrations) create and touch
 * only what is there; a name the projection does not own fails instead of reaching a live table.
 * With `synchronousCommit: false`, its commits do not wait for the disk either (what a crash
 * loses of them, a resumed rebuild applies again); set in the same statement, no round trip more.
 */
export function inSchema(db: Database, schema: string, options: { synchronousCommit?: boolean } = {}): Database {
  const path = quoteIdentifier(schema);
  const settings =
    options.synchronousCommit === false
      ? "select set_config('search_path', $1, true), set_config('synchronous_commit', 'off', true)"
      : "select set_config('search_path', $1, true)";
  const scoped: Database = {
    kind: db.kind,
    transaction: (fn) =>
      db.transaction(async (tx) => {
        await tx.query(settings, [path]);
        return fn(tx);
      }),
    query: (sql, params) => scoped.transaction((tx) => tx.query(sql, params)),
    exec: (sql) => scoped.transaction((tx) => tx.exec(sql)),
    tryLease: (name, options) => db.tryLease(name, options),
    listen: (channel, listener) => db.listen(channel, listener),
    notify: (channel, payload) => db.notify(channel, payload),
    close: () => db.close(),
  };
  return scoped;
}

interface SchemaObject {
  /** The ALTER statement's object keyword: table, view, materialized view, sequence, type, domain, function. */
  readonly keyword: string;
  readonly name: string;
  /** A function's identity arguments; null for other objects. */
  readonly args: string | null;
}

const objectKey = (object: SchemaObject) => `${object.keyword} ${object.name}(${object.args ?? ""})`;
const objectRef = (schema: string, object: SchemaObject) =>
  `${quoteIdentifier(schema)}.${quoteIdentifier(object.name)}${object.args === null ? "" : `(${object.args})`}`;

/**
 * What migrations create in a schema and the swap moves: tables (with their indexes, constraints
 * and owned sequences, which follow them), views, sequences of their own, enum, composite and
 * domain types, and functions. Not the bookkeeping tables.
 */
async function schemaObjects(tx: Queryable, schema: string): Promise<SchemaObject[]> {
  const { rows } = await tx.query<SchemaObject>(
    `with ns as (select oid from pg_namespace where nspname = $1)
     select case c.relkind when 'v' then 'view' when 'm' then 'materialized view' when 'S' then 'sequence' else 'table' end
              as keyword, c.relname::text as name, null::text as args
     from pg_class c
     where c.relnamespace = (select oid from ns) and c.relkind in ('r', 'p', 'v', 'm', 'S')
       and not c.relispartition and c.relname <> all($2::text[])
       and not (c.relkind = 'S' and exists (
         select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype in ('a', 'i')))
     union all
     select case t.typtype when 'd' then 'domain' else 'type' end, t.typname::text, null
     from pg_type t
     where t.typnamespace = (select oid from ns)
       and (t.typtype in ('e', 'd') or (t.typtype = 'c' and (select relkind from pg_class where oid = t.typrelid) = 'c'))
     union all
     select 'function', p.proname::text, pg_get_function_identity_arguments(p.oid)
     from pg_proc p
     where p.pronamespace = (select oid from ns) and p.prokind in ('f', 'p')
       and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'i')`,
    [schema, bookkeepingTables],
  );
  return rows;
}

/**
 * Inside the swap's transaction: the live schema's objects that the building schema also has go
 * to the retired schema, then everything built goes into the live schema, and the building schema
 * (its bookkeeping dropped) goes away. DDL is transactional: readers see the old tables or the new.
 */
export async function swapSchemaObjects(tx: Queryable, schemas: RebuildSchemas): Promise<string[]> {
  const built = await schemaObjects(tx, schemas.building);
  const builtKeys = new Set(built.map(objectKey));
  const replaced = (await schemaObjects(tx, schemas.live)).filter((object) => builtKeys.has(objectKey(object)));
  const to = (schema: string) => quoteIdentifier(schema);
  await tx.exec(`create schema ${to(schemas.retired)}`);
  for (const object of replaced) {
    await tx.exec(`alter ${object.keyword} ${objectRef(schemas.live, object)} set schema ${to(schemas.retired)}`);
  }
  for (const object of built) {
    await tx.exec(`alter ${object.keyword} ${objectRef(schemas.building, object)} set schema ${to(schemas.live)}`);
  }
  // Not cascade: anything left behind that the moved tables need makes the swap fail, not vanish.
  await tx.exec(
    `drop table if exists ${bookkeepingTables.map((table) => `${to(schemas.building)}.${table}`).join(", ")};
     drop schema ${to(schemas.building)}`,
  );
  return built.map((object) => object.name);
}

/**
 * Drops a schema and all in it, if it exists. A rebuild still writing there (one this run takes
 * over from) holds some of its tables while the drop holds others: when PostgreSQL ends that
 * deadlock by failing the drop, the drop is tried again (the other run then fails at its next page).
 */
export async function dropSchema(db: Database, schema: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await db.exec(`drop schema if exists ${quoteIdentifier(schema)} cascade`);
      return;
    } catch (error) {
      // 40P01: deadlock_detected.
      if ((error as { code?: string }).code !== "40P01" || attempt === 5) throw error;
    }
  }
}

export async function schemaExists(db: Database, schema: string): Promise<boolean> {
  const { rows } = await db.query("select 1 from pg_namespace where nspname = $1", [schema]);
  return rows.length > 0;
}
