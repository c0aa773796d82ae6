import type { Migration } from "@sluice/database";

export const dataSubjectKeys: Migration = {
  id: "event-store/005-data-subject-keys",
  sql: /* sql */ `
    -- Crypto-shredding (decision 0009): personal fields of events are sealed with a data key of
    -- their data subject, one per organization and subject, itself wrapped by the master key.
    -- Erasing a subject nulls its key: every field it sealed reads empty from then on. The row
    -- stays as a tombstone, so the subject's personal data is never written again.
    create table data_subject_keys (
      organization_id text not null,
      subject_id text not null,
      wrapped_key bytea,
      created_at timestamptz not null default now(),
      erased_at timestamptz,
      primary key (organization_id, subject_id),
      check ((wrapped_key is null) = (erased_at is not null))
    );

    -- One row: tells at start whether the master key given is the one the data keys were wrapped
    -- with (an HMAC of a fixed label under it), and holds the key itself when the embedded shape
    -- generated it rather than took it from the environment.
    create table personal_data_master_key (
      id smallint primary key default 1 check (id = 1),
      key_check bytea not null,
      generated_key bytea,
      created_at timestamptz not null default now()
    );
  `,
};
