import type { Queryable } from "@sluice/database";
import type { RecordedEvent } from "@sluice/event-store";
import { dispatchRecords, type ReadModel } from "./projection";
import { isoText, jsonRows } from "./sql";

/** The organization's projects; their order and route counts are counted from the other read models when asked. */
export const projectsList: ReadModel = {
  name: "dispatch.projects",
  migrations: [
    {
      id: "dispatch/003-projects",
      sql: `
        create table dispatch_projects (
          organization_id text not null,
          project_id text not null,
          name text not null,
          version bigint not null,
          created_at timestamptz not null,
          primary key (organization_id, project_id)
        );
      `,
    },
  ],
  /** Creations only, each a new row: one insert per batch. */
  async handle(tx: Queryable, events: readonly RecordedEvent[]) {
    const rows = [];
    for (const record of dispatchRecords(events)) {
      const event = record.data;
      if (event.$typeName !== "dispatch.v1.ProjectCreated") continue;
      rows.push([
        record.organizationId,
        event.projectId,
        event.name,
        record.streamVersion.toString(),
        isoText(record.occurredAt),
      ]);
    }
    if (rows.length === 0) return;
    await tx.query(
      `insert into dispatch_projects (organization_id, project_id, name, version, created_at)
       select * from ${jsonRows("$1", "r", "organization_id text, project_id text, name text, version bigint, created_at timestamptz")}
       on conflict do nothing`,
      [JSON.stringify(rows)],
      { name: "dispatch.projects.insert" },
    );
  },
};
