import type { Queryable } from "@sluice/database";
import type { RecordedEvent } from "@sluice/event-store";
import { foldActivity, labelsNeeded, type ActivityErasure, type ActivityRow, type LabelRow } from "./activityRows";
import { dispatchRecords, type ReadModel } from "./projection";
import { ByOrganization, jsonRows } from "./sql";

/**
 * One sentence per thing a dispatcher did, stored without its subject ("created order for ACME
 * (120 kg)"): the query puts the user's current name in front, so a renamed user reads right.
 * Names of orders and routes are kept in a small table of this read model's own, so it never
 * depends on how far another projection has got.
 */
export const activityFeed: ReadModel = {
  name: "dispatch.activity",
  migrations: [
    {
      id: "dispatch/004-activity",
      sql: `
        create table dispatch_activity (
          organization_id text not null,
          global_position bigint not null,
          project_id text not null,
          stream_id text not null,
          event_type text not null,
          summary text not null,
          user_id text not null,
          occurred_at timestamptz not null,
          primary key (organization_id, global_position)
        );
        create index dispatch_activity_by_project on dispatch_activity (organization_id, project_id, global_position desc);
        create table dispatch_activity_labels (
          organization_id text not null,
          id text not null,
          label text not null,
          primary key (organization_id, id)
        );
      `,
    },
    {
      id: "dispatch/006-activity-personal-data-erased",
      sql: `
        -- An order's sentence as it reads once the order's personal data is erased: written with the
        -- sentence, and put in its place by OrderPersonalDataErased. Null for other streams' sentences.
        alter table dispatch_activity add column erased_summary text;
      `,
    },
  ],
  /**
   * Four statements per batch at most, whatever its size: the labels it needs from earlier
   * batches are read, the batch is folded into sentences in memory (`foldActivity`), then its
   * labels, its sentences and the erasures of earlier sentences are written, one statement each.
   */
  async handle(tx: Queryable, events: readonly RecordedEvent[]) {
    const records = dispatchRecords(events);
    if (records.length === 0) return;
    const needed = labelsNeeded(records);
    const stored = new ByOrganization<string>();
    if (needed.length > 0) {
      const found = await tx.query<LabelRow>(
        `select l.organization_id, l.id, l.label from dispatch_activity_labels l
         join ${jsonRows("$1", "k", "organization_id text, id text")}
           on l.organization_id = k.organization_id and l.id = k.id`,
        [JSON.stringify(needed)],
        { name: "dispatch.activity.read-labels" },
      );
      for (const row of found.rows) stored.set(row.organization_id, row.id, row.label);
    }
    const { labels, rows, erasures } = foldActivity(stored, records);
    if (labels.length > 0) {
      await tx.query(
        `insert into dispatch_activity_labels (organization_id, id, label)
         select * from ${jsonRows("$1", "r", "organization_id text, id text, label text")}
         on conflict (organization_id, id) do update set label = excluded.label`,
        [JSON.stringify(labels.map(labelValues))],
        { name: "dispatch.activity.upsert-labels" },
      );
    }
    if (rows.length > 0) {
      await tx.query(
        `insert into dispatch_activity (organization_id, global_position, project_id, stream_id, event_type, summary,
           erased_summary, user_id, occurred_at)
         select * from ${jsonRows(
           "$1",
           "r",
           `organization_id text, global_position bigint, project_id text, stream_id text, event_type text,
           summary text, erased_summary text, user_id text, occurred_at timestamptz`,
         )}
         on conflict do nothing`,
        [JSON.stringify(rows.map(activityValues))],
        { name: "dispatch.activity.insert" },
      );
    }
    if (erasures.length > 0) {
      // Only sentences logged before the erasure: those after it were written in their final form.
      await tx.query(
        `update dispatch_activity a set summary = a.erased_summary
         from ${jsonRows("$1", "e", "organization_id text, stream_id text, before_position bigint")}
         where a.organization_id = e.organization_id and a.stream_id = e.stream_id
           and a.global_position < e.before_position and a.erased_summary is not null`,
        [JSON.stringify(erasures.map(erasureValues))],
        { name: "dispatch.activity.erase" },
      );
    }
  },
};

/** Rows as `jsonRows` elements, in the columns' order. */
const labelValues = (row: LabelRow) => [row.organization_id, row.id, row.label];

const activityValues = (row: ActivityRow) => [
  row.organization_id,
  row.global_position,
  row.project_id,
  row.stream_id,
  row.event_type,
  row.summary,
  row.erased_summary,
  row.user_id,
  row.occurred_at,
];

const erasureValues = (erasure: ActivityErasure) => [
  erasure.organization_id,
  erasure.stream_id,
  erasure.before_position,
];
