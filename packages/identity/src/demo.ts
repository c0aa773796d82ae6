import { createHash, randomUUID } from "node:crypto";
import type { PasswordHasher } from "./password-hasher";
import type { RoleName } from "./roles";
import type { Database } from "@sluice/database";

export const demoPassword = "dispatch";

const demoOrganizations = [
  {
    key: "acme",
    name: "Acme Logistics",
    users: [
      { email: "ana@acme.test", displayName: "Ana Alvarez", role: "owner" },
      { email: "ben@acme.test", displayName: "Ben Brandt", role: "dispatcher" },
      { email: "vera@acme.test", displayName: "Vera Vogel", role: "viewer" },
    ],
  },
  {
    key: "globex",
    name: "Globex Freight",
    users: [{ email: "gina@globex.test", displayName: "Gina Grant", role: "owner" }],
  },
] as const satisfies readonly {
  key: string;
  name: string;
  users: readonly { email: string; displayName: string; role: RoleName }[];
}[];

/** The ids seedDemo wrote or found: organizations by key, users by email. */
export interface DemoSeed {
  readonly organizations: { readonly acme: string; readonly globex: string };
  readonly users: Readonly<Record<string, string>>;
}

/**
 * Writes the demo organizations and users when missing, and returns their ids. Organization ids
 * derive from their names, so concurrent or repeated seeding lands on the same rows.
 */
export async function seedDemo(db: Database, hasher: PasswordHasher, now: () => number): Promise<DemoSeed> {
  const emails = demoOrganizations.flatMap((org) => org.users.map((user) => user.email));
  const { rows: present } = await db.query<{ email: string }>(`SELECT email FROM users WHERE email = ANY($1)`, [
    emails,
  ]);
  const existing = new Set(present.map((row) => row.email));
  // Hash outside the transaction: it is the slow part, and only missing users need it.
  const hashes = new Map<string, string>();
  for (const email of emails) if (!existing.has(email)) hashes.set(email, await hasher.hash(demoPassword));

  return db.transaction(async (tx) => {
    const at = new Date(now()).toISOString();
    const organizations: Record<string, string> = {};
    for (const org of demoOrganizations) {
      const id = demoOrganizationId(org.name);
      await tx.query(
        `INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3::timestamptz) ON CONFLICT (id) DO NOTHING`,
        [id, org.name, at],
      );
      organizations[org.key] = id;
      for (const user of org.users) {
        const hash = hashes.get(user.email);
        if (hash === undefined) continue;
        const userId = randomUUID();
        const { rows: inserted } = await tx.query(
          `INSERT INTO users (id, organization_id, email, display_name, password_hash, created_at)
           VALUES ($1, $2, $3, $4, $5, $6::timestamptz) ON CONFLICT (email) DO NOTHING RETURNING id`,
          [userId, id, user.email, user.displayName, hash, at],
        );
        if (inserted.length === 0) continue;
        await tx.query(
          `INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES ($1, $2, $3, $4::timestamptz)`,
          [id, userId, user.role, at],
        );
      }
    }
    const { rows } = await tx.query<{ id: string; email: string }>(
      `SELECT id, email FROM users WHERE email = ANY($1)`,
      [emails],
    );
    return {
      organizations: { acme: organizations.acme!, globex: organizations.globex! },
      users: Object.fromEntries(rows.map((row) => [row.email, row.id])),
    };
  });
}

/** A stable UUID-shaped id from the organization's name. */
function demoOrganizationId(name: string): string {
  const hex = createHash("sha256").update(`sluice demo organization: ${name}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
