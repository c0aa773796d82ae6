// Bulk fill: millions of stored events in minutes rather than hours, written with
// INSERT … SELECT generate_series straight into each store's tables, rows shaped as the store's
// own append writes them (same columns, defaults, constraints and indexes, all kept in place).
// A filled history is 10 events per stream, one command per event; stream and command ids are
// UUID-shaped and spread over the key space (md5 of a counter), as random UUIDs are, so the
// indexes grow the way real appends make them grow.
import type pg from "pg";
import type { StoreName } from "./stores";

export const eventsPerFilledStream = 10;

/** The same order JSON the bench's appends write, for the filled stream `sid`. */
const orderJson = (sid: string) =>
  `jsonb_build_object('orderId', ${sid}, 'projectId', 'p-1', 'consignee', 'ACME Logistics',
     'address', 'Main St 1, Springfield', 'weightKg', 12.5)`;

/** Events `from` (inclusive) to `to` (exclusive) of the filled history, streams numbered from 0. */
function fillSql(store: StoreName, from: number, to: number): string {
  const per = eventsPerFilledStream;
  const firstStream = Math.floor(from / per);
  const lastStream = Math.floor((to - 1) / per);
  // A filled event n: stream n / per, version n % per + 1; its command id is md5 of n.
  const events = `(select n, md5('s' || (n / ${per}))::uuid::text as sid, n % ${per} + 1 as version,
                          md5('c' || n)::uuid::text as command_id
                   from generate_series(${from}, ${to - 1}) n) e`;
  const streams = `(select md5('s' || s)::uuid::text as sid,
                           least(${per}, ${to} - s * ${per}) as version
                    from generate_series(${firstStream}, ${lastStream}) s) st`;
  if (store !== "emmett") {
    return /* sql */ `
      insert into event_streams (stream_id, organization_id, stream_type, version)
      select sid, 'org-bench', 'dispatch.order', version from ${streams}
      on conflict (stream_id) do update set version = excluded.version;
      insert into command_results (organization_id, command_id, result_type, result)
      select 'org-bench', command_id, 'dispatch.v1.CommandAccepted',
             jsonb_build_object('versions', jsonb_build_array(jsonb_build_object('streamId', sid, 'version', version::text)))
      from ${events};
      insert into events (organization_id, stream_id, stream_type, stream_version, type, data, metadata)
      select 'org-bench', sid, 'dispatch.order', version, 'dispatch.v1.OrderCreated', ${orderJson("sid")},
             jsonb_build_object('userId', 'user-1', 'commandId', command_id, 'correlationId', command_id)
      from ${events}
      order by n;`;
  }
  // Emmett: stream names carry the type prefix; partition and kind as its appendToStream writes them.
  return /* sql */ `
    insert into emt_streams (stream_id, stream_position, partition, stream_type, stream_metadata, is_archived)
    select 'order-' || sid, version, 'emt:default', 'order', '{}', false from ${streams}
    on conflict (stream_id, partition, is_archived) do update set stream_position = excluded.stream_position;
    insert into emt_messages (stream_id, stream_position, partition, message_kind, message_data, message_metadata,
                              message_schema_version, message_type, message_id, is_archived, transaction_id)
    select 'order-' || sid, version, 'emt:default', 'E', ${orderJson("sid")},
           jsonb_build_object('userId', 'user-1', 'commandId', command_id, 'correlationId', command_id),
           '1', 'OrderCreated', command_id, false, pg_current_xact_id()
    from ${events}
    order by n;`;
}

/**
 * Fills the store's tables from `from` to `to` stored events, in transactions of `chunk` events,
 * reporting progress after each. Then VACUUM ANALYZE, as autovacuum would have run on a history
 * that grew over time.
 */
export async function bulkFill(
  client: pg.Client,
  store: StoreName,
  from: number,
  to: number,
  progress: (done: number, eventsPerSecond: number) => void,
  chunk = 500_000,
): Promise<void> {
  const started = performance.now();
  for (let start = from; start < to; start += chunk) {
    const end = Math.min(to, start + chunk);
    await client.query("begin");
    await client.query(fillSql(store, start, end));
    await client.query("commit");
    progress(end, (end - from) / ((performance.now() - started) / 1000));
  }
  await client.query("vacuum analyze");
}
