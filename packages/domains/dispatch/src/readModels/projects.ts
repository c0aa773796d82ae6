import type { Queryable } from "@sluice/database";
import type { RecordedEvent } from "@sluice/event-store";
import { dispatchRecords, type ReadModel } from "./projection";

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
  async handle(tx: Queryable, events: readonly RecordedEvent[]) {
    for (const record of dispatchRecords(events)) {
      const event = record.data;
      if (event.$typeName !== "dispatch.v1.ProjectCreated") continue;
      await tx.query(
        `insert into dispatch_projects (organization_id, project_id, name, version, created_at)
         values ($1, $2, $3, $4, $5::timestamptz) on conflict do nothing`,
        [record.organizationId, event.projectId, event.name, record.streamVersion, record.occurredAt.toISOString()],
      );
    }
  },
};
