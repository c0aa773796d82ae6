import { randomUUID } from "node:crypto";
import type { Database } from "@sluice/database";
import type { Session } from "@sluice/rpc";
import { alreadyExists, invalidArgument, notFound, permissionDenied, unauthenticated } from "./errors";
import { invitationRefusal, mayManageMembers } from "./member-rules";
import { hashOpaqueToken, newOpaqueToken } from "./opaque-token";
import { minimumPasswordLength, type PasswordHasher } from "./password-hasher";
import type { RoleName } from "./roles";
import { iso } from "./sessions";
import type { SignInSubject, SignInThrottle } from "./sign-in-throttle";

/** A pending invitation as owners and admins see it. */
export interface Invitation {
  readonly id: string;
  readonly email: string;
  readonly role: RoleName;
  /** The inviter's display name. */
  readonly invitedBy: string;
  /** Unix milliseconds. */
  readonly expiresAt: number;
}

export interface Acceptance {
  readonly token: string;
  /** Needed when the email has no account yet. */
  readonly displayName?: string | undefined;
  /** The new account's password, or the existing account's. */
  readonly password: string;
}

export interface Invitations {
  list(session: Session): Promise<Invitation[]>;
  /** Answers the invitation and its token: the token goes into the link and is not kept. */
  create(session: Session, email: string, role: RoleName): Promise<{ invitation: Invitation; token: string }>;
  revoke(session: Session, invitationId: string): Promise<void>;
  /** Makes the invitee a member with the invited role; answers who joined where. */
  accept(
    acceptance: Acceptance,
    clientAddress: string | undefined,
  ): Promise<{ userId: string; organizationId: string }>;
}

interface InvitationRow {
  id: string;
  email: string;
  role: RoleName;
  invited_by: string;
  expires_ms: number;
}

const selectPending = `
  SELECT i.id, i.email, i.role, u.display_name AS invited_by, (extract(epoch FROM i.expires_at) * 1000)::float8 AS expires_ms
  FROM invitations i JOIN users u ON u.id = i.invited_by
  WHERE i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $1::timestamptz`;

function toInvitation(row: InvitationRow): Invitation {
  return { id: row.id, email: row.email, role: row.role, invitedBy: row.invited_by, expiresAt: row.expires_ms };
}

export interface InvitationDeps {
  readonly db: Database;
  readonly hasher: PasswordHasher;
  readonly throttle: SignInThrottle;
  readonly ttlMs: number;
  readonly now: () => number;
  readonly normalizeEmail: (email: string) => string;
}

export function createInvitations(deps: InvitationDeps): Invitations {
  const { db, hasher, throttle, ttlMs, now } = deps;
  const notValid = () => notFound("this invitation does not exist, was revoked or has expired");

  /** The caller's role now, from the database: a role changed since the token was issued counts. */
  async function managerRole(session: Session): Promise<RoleName> {
    const { rows } = await db.query<{ role: RoleName }>(
      `SELECT role FROM memberships WHERE organization_id = $1 AND user_id = $2`,
      [session.organizationId, session.userId],
    );
    const role = rows[0]?.role;
    if (!role || !mayManageMembers(role)) throw permissionDenied("only owners and admins manage invitations");
    return role;
  }

  return {
    async list(session) {
      await managerRole(session);
      const { rows } = await db.query<InvitationRow>(
        `${selectPending} AND i.organization_id = $2 ORDER BY i.created_at, i.id`,
        [iso(now()), session.organizationId],
      );
      return rows.map(toInvitation);
    },

    async create(session, rawEmail, role) {
      const refusal = invitationRefusal(await managerRole(session), role);
      if (refusal) throw refusal;
      const email = deps.normalizeEmail(rawEmail);
      const token = newOpaqueToken();
      const id = randomUUID();
      const at = now();
      await db.transaction(async (tx) => {
        const { rows: members } = await tx.query(
          `SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1 AND u.email = $2`,
          [session.organizationId, email],
        );
        if (members.length > 0) throw alreadyExists("that email already belongs to a member");
        // A new invitation replaces a pending one for the same email: the old link stops working.
        await tx.query(
          `UPDATE invitations SET revoked_at = $3::timestamptz
           WHERE organization_id = $1 AND email = $2 AND accepted_at IS NULL AND revoked_at IS NULL`,
          [session.organizationId, email, iso(at)],
        );
        await tx.query(
          `INSERT INTO invitations (id, organization_id, email, role, token_hash, invited_by, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8::timestamptz)`,
          [id, session.organizationId, email, role, hashOpaqueToken(token), session.userId, iso(at), iso(at + ttlMs)],
        );
      });
      return {
        invitation: { id, email, role, invitedBy: session.displayName, expiresAt: at + ttlMs },
        token,
      };
    },

    async revoke(session, invitationId) {
      await managerRole(session);
      const { rows } = await db.query(
        `UPDATE invitations SET revoked_at = $3::timestamptz
         WHERE id = $1 AND organization_id = $2 AND accepted_at IS NULL AND revoked_at IS NULL
         RETURNING id`,
        [invitationId, session.organizationId, iso(now())],
      );
      if (rows.length === 0) throw notFound("no such pending invitation in this organization");
    },

    async accept(acceptance, clientAddress) {
      const tokenHash = hashOpaqueToken(acceptance.token);
      const { rows } = await db.query<{ id: string; organization_id: string; email: string; role: RoleName }>(
        `SELECT id, organization_id, email, role FROM invitations
         WHERE token_hash = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2::timestamptz`,
        [tokenHash, iso(now())],
      );
      const invitation = rows[0];
      if (!invitation) throw notValid();

      const { rows: users } = await db.query<{ id: string; password_hash: string }>(
        `SELECT id, password_hash FROM users WHERE email = $1`,
        [invitation.email],
      );
      const existing = users[0];
      let newAccount: { id: string; hash: string; displayName: string } | undefined;
      if (existing) {
        // Joining with an existing account proves it with that account's password, throttled like sign-in.
        const subject: SignInSubject = { email: invitation.email, clientAddress };
        await throttle.admit(subject);
        if (!(await hasher.verify(existing.password_hash, acceptance.password))) {
          await throttle.failed(subject);
          throw unauthenticated("wrong password for the invited account");
        }
        await throttle.succeeded(subject);
      } else {
        const displayName = acceptance.displayName?.trim();
        if (!displayName) throw invalidArgument("displayName: a new account needs a display name");
        if (acceptance.password.length < minimumPasswordLength) {
          throw invalidArgument(
            `password: a new account's password needs at least ${minimumPasswordLength} characters`,
          );
        }
        newAccount = { id: randomUUID(), hash: await hasher.hash(acceptance.password), displayName };
      }

      const userId = existing?.id ?? newAccount!.id;
      await db.transaction(async (tx) => {
        const at = iso(now());
        const { rows: taken } = await tx.query(
          `UPDATE invitations SET accepted_at = $2::timestamptz
           WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2::timestamptz
           RETURNING id`,
          [invitation.id, at],
        );
        if (taken.length === 0) throw notValid();
        if (newAccount) {
          const { rows: inserted } = await tx.query(
            `INSERT INTO users (id, organization_id, email, display_name, password_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6::timestamptz) ON CONFLICT (email) DO NOTHING RETURNING id`,
            [newAccount.id, invitation.organization_id, invitation.email, newAccount.displayName, newAccount.hash, at],
          );
          if (inserted.length === 0) throw alreadyExists("an account with this email was just created: accept again");
        }
        await tx.query(
          `INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES ($1, $2, $3, $4::timestamptz)
           ON CONFLICT (organization_id, user_id) DO NOTHING`,
          [invitation.organization_id, userId, invitation.role, at],
        );
      });
      return { userId, organizationId: invitation.organization_id };
    },
  };
}
