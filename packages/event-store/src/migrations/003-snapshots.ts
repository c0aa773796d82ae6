import type { Migration } from "@sluice/database";

export const snapshots: Migration = {
  id: "event-store/003-snapshots",
  sql: /* sql */ `
    -- An aggregate's state at a version of its stream, so loading a long stream reads only what
    -- came after. A cache: deleting every row loses nothing. A snapshot whose snapshot_version
    -- is not the decider's current one is ignored, never misread.
    create table snapshots (
      stream_id text primary key,
      organization_id text not null,
      stream_version bigint not null,
      snapshot_version integer not null,
      state jsonb not null,
      taken_at timestamptz not null default now()
    );
  `,
};
