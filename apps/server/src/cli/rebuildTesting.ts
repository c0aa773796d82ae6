// Shared by the rebuild tests: a Dispatch log filled, and every read model row to compare.
import { randomUUID } from "node:crypto";
import type { Database } from "@sluice/database";
import type { EventStore } from "@sluice/event-store";
import { fillDispatchLog } from "./dispatchHistory";

/** Every row of every Dispatch read model's table, in a stable order. */
export async function readModelRows(db: Database): Promise<Record<string, string[]>> {
  const { rows: tables } = await db.query<{ name: string }>(
    "select tablename as name from pg_tables where schemaname = current_schema() and tablename like 'dispatch\\_%' order by 1",
  );
  const snapshot: Record<string, string[]> = {};
  for (const { name } of tables) {
    const { rows } = await db.query<{ row: string }>(`select to_jsonb(t)::text as row from "${name}" t`);
    snapshot[name] = rows.map((r) => r.row).sort();
  }
  return snapshot;
}

/** Whole projects of ~165 events, two at a time, until at least `events`. */
export const fill = (store: EventStore, events: number) =>
  fillDispatchLog(store, [randomUUID(), randomUUID()], events, 2);
