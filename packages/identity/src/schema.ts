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
  {
    // Accounts belong to organizations through memberships (role per organization); sessions are
    // refresh-token families; access tokens are signed by rotating keys. Existing users keep their
    // organization and role as their first membership.
    id: "identity/002-memberships-sessions-keys",
    sql: `
      CREATE TABLE memberships (
        organization_id text NOT NULL REFERENCES organizations (id),
        user_id text NOT NULL REFERENCES users (id),
        role text NOT NULL CHECK (role IN ('viewer', 'dispatcher', 'admin', 'owner')),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (organization_id, user_id)
      );
      CREATE INDEX memberships_user_id ON memberships (user_id);
      INSERT INTO memberships (organization_id, user_id, role, created_at)
        SELECT organization_id, id, role, created_at FROM users;
      -- The role lives in memberships now. users.organization_id stays: it is the organization the
      -- account was created in, and other contexts join on it (see docs/identity.md).
      ALTER TABLE users DROP COLUMN role;

      -- A session is one sign-in on one device, in one organization: the family of its refresh tokens.
      -- expires_at is its absolute end; each refresh moves last_used_at.
      ALTER TABLE sessions ADD COLUMN user_agent text;
      ALTER TABLE sessions ADD COLUMN last_used_at timestamptz;
      UPDATE sessions SET last_used_at = created_at;
      ALTER TABLE sessions ALTER COLUMN last_used_at SET NOT NULL;
      CREATE INDEX sessions_organization_id ON sessions (organization_id);

      -- Only a SHA-256 of each refresh token is kept. rotated_at is set when it was exchanged for
      -- the next one: presenting it again is reuse, and revokes its session.
      CREATE TABLE refresh_tokens (
        token_hash text PRIMARY KEY,
        session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL,
        rotated_at timestamptz
      );
      CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);

      -- Access-token signing keys when no key comes from the environment (docs/decisions/0006).
      -- The newest unretired key signs; retired ones verify until the tokens they signed expire.
      CREATE TABLE signing_keys (
        id text PRIMARY KEY,
        algorithm text NOT NULL,
        private_key_pem text NOT NULL,
        created_at timestamptz NOT NULL,
        retired_at timestamptz
      );

      CREATE TABLE invitations (
        id text PRIMARY KEY,
        organization_id text NOT NULL REFERENCES organizations (id),
        email text NOT NULL,
        role text NOT NULL CHECK (role IN ('viewer', 'dispatcher', 'admin', 'owner')),
        token_hash text NOT NULL UNIQUE,
        invited_by text NOT NULL REFERENCES users (id),
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        accepted_at timestamptz,
        revoked_at timestamptz
      );
      CREATE INDEX invitations_organization_id ON invitations (organization_id);

      -- Every revocation, written in the transaction that makes it; each process reads the others'
      -- (docs/identity.md). Either session_ids, or user_id with organization_id (a membership changed).
      CREATE TABLE revocations (
        position bigserial PRIMARY KEY,
        at timestamptz NOT NULL,
        session_ids text[],
        user_id text,
        organization_id text
      );
      CREATE INDEX revocations_at ON revocations (at);
      INSERT INTO revocations (at, session_ids)
        SELECT revoked_at, array[id] FROM sessions WHERE revoked_at > now() - interval '1 day';
    `,
  },
];
