// Identity's tables. Plain SQL that runs unchanged on PGlite and on the PostgreSQL server.
// Ids are text (UUIDs written by the application) so other contexts can join on them without casts.

import type { Migration } from "@sluice/database";

export const identityMigrations: readonly Migration[] = [
  {
    id: "identity/001-init",
    sql: `
      CREATE TABLE IF NOT EXISTS organizations (
        id text PRIMARY KEY,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE IF NOT EXISTS users (
        id text PRIMARY KEY,
        organization_id text NOT NULL REFERENCES organizations (id),
        email text NOT NULL UNIQUE,
        display_name text NOT NULL,
        password_hash text NOT NULL,
        role text NOT NULL CHECK (role IN ('viewer', 'dispatcher', 'admin', 'owner')),
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX IF NOT EXISTS users_organization_id ON users (organization_id);

      CREATE TABLE IF NOT EXISTS sessions (
        id text PRIMARY KEY,
        user_id text NOT NULL REFERENCES users (id),
        organization_id text NOT NULL REFERENCES organizations (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz
      );
      CREATE INDEX IF NOT EXISTS sessions_user_id ON sessions (user_id);
    `,
  },
];
