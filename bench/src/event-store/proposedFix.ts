// The change to append_batch this bench proposes (see docs/benchmarks.md, "Event store appends"),
// applied to a bench database only so that its effect is measured beside the store as it is.
// It is derived from the store's own migration text, not a copy: two lookups change form.
//
// append_batch finds the batch's streams and already-handled commands with `in (select … from
// jsonb_array_elements(…))` and a join on jsonb_array_elements. The planner takes a set-returning
// function for 100 rows, so in a plpgsql function's cached plan it hashes those rows and scans
// event_streams and command_results whole: every append reads every stream and command row until
// the tables are large enough for an index plan to look cheaper. With `= any(array(…))` the keys
// are one array parameter and both lookups are index scans at every table size.
import type pg from "pg";
import { eventStoreMigrations } from "@sluice/event-store";

const streamLookup = {
  from: `where stream_id in (
            select x->>'streamId' from jsonb_array_elements(p_commands) cmd, jsonb_array_elements(cmd->'streams') x
          )`,
  to: `where stream_id = any(array(
            select x->>'streamId' from jsonb_array_elements(p_commands) cmd, jsonb_array_elements(cmd->'streams') x
          ))`,
};
const commandLookup = {
  from: `from command_results r
        join jsonb_array_elements(p_commands) cmd
          on r.organization_id = cmd->>'organizationId' and r.command_id = cmd->>'commandId';`,
  to: `from command_results r
        where (r.organization_id, r.command_id) in (
          select cmd->>'organizationId', cmd->>'commandId' from jsonb_array_elements(p_commands) cmd
        )
          and r.organization_id = any(array(select cmd->>'organizationId' from jsonb_array_elements(p_commands) cmd))
          and r.command_id = any(array(select cmd->>'commandId' from jsonb_array_elements(p_commands) cmd));`,
};

/** append_batch as migration 002 creates it, with the two lookups in index-friendly form. */
export function appendBatchWithIndexedLookups(): string {
  const migration = eventStoreMigrations.find((m) => m.id === "event-store/002-append-batch");
  if (!migration) throw new Error("migration event-store/002-append-batch not found");
  const start = migration.sql.indexOf("create function append_batch");
  const bodyStart = migration.sql.indexOf("$$", start);
  const end = migration.sql.indexOf("$$;", bodyStart + 2) + 3;
  let sql = migration.sql.slice(start, end).replace("create function", "create or replace function");
  for (const { from, to } of [streamLookup, commandLookup]) {
    if (!sql.includes(from)) throw new Error("append_batch changed: the bench's proposed fix no longer applies");
    sql = sql.replace(from, to);
  }
  return sql;
}

export async function applyProposedFix(client: pg.Client): Promise<void> {
  await client.query(appendBatchWithIndexedLookups());
}
