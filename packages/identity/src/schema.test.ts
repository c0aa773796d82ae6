import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { migrate, type Database } from "@sluice/database";
import { testBackends } from "@sluice/database/testing";
import { createIdentity } from "./identity";
import { lowHashCost, PasswordHasher } from "./password-hasher";
import { identityMigrations } from "./schema";

// A database made by identity/001 (roles on users) keeps working after identity/002.
for (const backend of await testBackends()) {
  describe(`identity migrations on ${backend.name}`, { skip: backend.skip }, () => {
    let db: Database;

    before(async () => {
      db = await backend.open();
    });
    after(() => db?.close());

    test("001's users become members with their role; signed-out sessions stay signed out", async () => {
      await migrate(db, identityMigrations.slice(0, 1));
      const hash = await new PasswordHasher(lowHashCost).hash("old-password");
      await db.exec(`INSERT INTO organizations (id, name) VALUES ('org-1', 'Old Co')`);
      await db.query(
        `INSERT INTO users (id, organization_id, email, display_name, password_hash, role)
         VALUES ('user-1', 'org-1', 'olly@old.test', 'Olly', $1, 'admin')`,
        [hash],
      );
      await db.exec(
        `INSERT INTO sessions (id, user_id, organization_id, expires_at, revoked_at)
         VALUES ('session-1', 'user-1', 'org-1', now() + interval '1 hour', now())`,
      );

      const identity = await createIdentity({ db, hashCost: lowHashCost });
      try {
        const signedIn = await identity.signIn("olly@old.test", "old-password");
        assert.equal(signedIn.user.role, "admin");
        assert.equal(signedIn.user.organizationName, "Old Co");
        const { rows } = await db.query<{ session_ids: string[] }>("SELECT session_ids FROM revocations");
        assert.deepEqual(
          rows.map((row) => row.session_ids),
          [["session-1"]],
        );
      } finally {
        identity.close();
      }
    });
  });
}
