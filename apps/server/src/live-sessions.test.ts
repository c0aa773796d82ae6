// The batched live-session check the gateway's periodic re-check runs, on both backends.
import { migrate, type Database } from "@sluice/database";
import { testBackends } from "@sluice/database/testing";
import { Role } from "@sluice/contracts";
import { identityMigrations } from "@sluice/identity";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { liveSessions } from "./live-sessions";

const now = Date.parse("2026-11-25T12:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();

async function seedSessions(db: Database): Promise<void> {
  await migrate(db, identityMigrations);
  await db.query(`INSERT INTO organizations (id, name) VALUES ('org-a', 'A'), ('org-b', 'B')`);
  await db.query(
    `INSERT INTO users (id, organization_id, email, display_name, password_hash)
     VALUES ('u1', 'org-a', 'u1@example.test', 'One', 'x'), ('u2', 'org-a', 'u2@example.test', 'Two', 'x')`,
  );
  await db.query(
    `INSERT INTO memberships (organization_id, user_id, role) VALUES ('org-a', 'u1', 'dispatcher'), ('org-a', 'u2', 'viewer')`,
  );
  const session = (id: string, user: string, org: string, expires: number, revoked: number | null) =>
    db.query(
      `INSERT INTO sessions (id, user_id, organization_id, created_at, last_used_at, expires_at, revoked_at)
       VALUES ($1, $2, $3, $4::timestamptz, $4::timestamptz, $5::timestamptz, $6::timestamptz)`,
      [id, user, org, iso(now - 1000), iso(expires), revoked === null ? null : iso(revoked)],
    );
  await session("live", "u1", "org-a", now + 60_000, null);
  await session("viewer", "u2", "org-a", now + 60_000, null);
  await session("revoked", "u1", "org-a", now + 60_000, now - 10);
  await session("expired", "u1", "org-a", now - 1, null);
  // A session in an organization the user is no longer (or never was) a member of.
  await session("no-membership", "u1", "org-b", now + 60_000, null);
}

for (const backend of await testBackends()) {
  describe(`live sessions (${backend.name})`, { skip: backend.skip }, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
      await seedSessions(db);
    });
    after(() => db?.close());

    test("answers the live ones with their role now; revoked, expired, memberless and unknown ids are missing", async () => {
      const check = liveSessions(db, () => now);
      const live = await check(["live", "viewer", "revoked", "expired", "no-membership", "unknown"]);
      assert.deepEqual([...live.keys()].sort(), ["live", "viewer"]);
      assert.deepEqual(live.get("live"), { userId: "u1", organizationId: "org-a", role: Role.DISPATCHER });
      assert.equal(live.get("viewer")?.role, Role.VIEWER);

      await db.query(`UPDATE memberships SET role = 'admin' WHERE user_id = 'u2'`);
      assert.equal((await check(["viewer"])).get("viewer")?.role, Role.ADMIN);
      assert.equal((await check([])).size, 0);
    });
  });
}
