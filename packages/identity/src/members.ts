import type { Database, Queryable } from "@sluice/database";
import type { Session } from "@sluice/rpc";
import { notFound, permissionDenied } from "./errors";
import { mayManageMembers, removalRefusal, roleChangeRefusal } from "./member-rules";
import type { Revocation, Revocations } from "./revocations";
import type { RoleName } from "./roles";
import { liveSessionIds, revokeSessionRows } from "./sessions";

/** A member as the Settings app sees them. */
export interface Member {
  readonly userId: string;
  readonly email: string;
  readonly displayName: string;
  readonly role: RoleName;
  /** Unix milliseconds. */
  readonly joinedAt: number;
}

interface MemberRow {
  user_id: string;
  email: string;
  display_name: string;
  role: RoleName;
  joined_ms: number;
}

const selectMembers = `
  SELECT m.user_id, u.email, u.display_name, m.role, (extract(epoch FROM m.created_at) * 1000)::float8 AS joined_ms
  FROM memberships m JOIN users u ON u.id = m.user_id`;

function toMember(row: MemberRow): Member {
  return {
    userId: row.user_id,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    joinedAt: row.joined_ms,
  };
}

export interface Members {
  list(session: Session): Promise<Member[]>;
  changeRole(session: Session, userId: string, role: RoleName): Promise<Member>;
  remove(session: Session, userId: string): Promise<void>;
}

/**
 * The members of the caller's organization. The organization always comes from the session; a
 * user id from another organization is answered NOT_FOUND, exactly like one that does not exist.
 */
export function createMembers(revocations: Revocations, db: Database, now: () => number): Members {
  /** Locks the organization's memberships for the transaction, so rules see a settled picture. */
  async function lockedRoles(tx: Queryable, organizationId: string) {
    const { rows } = await tx.query<{ user_id: string; role: RoleName }>(
      `SELECT user_id, role FROM memberships WHERE organization_id = $1 ORDER BY user_id FOR UPDATE`,
      [organizationId],
    );
    return new Map(rows.map((row) => [row.user_id, row.role]));
  }

  return {
    async list(session) {
      const { rows } = await db.query<MemberRow>(
        `${selectMembers} WHERE m.organization_id = $1 ORDER BY u.display_name, m.user_id`,
        [session.organizationId],
      );
      return rows.map(toMember);
    },

    async changeRole(session, userId, role) {
      return revocations.commit(async (tx) => {
        const roles = await lockedRoles(tx, session.organizationId);
        const actorRole = roles.get(session.userId);
        const targetRole = roles.get(userId);
        if (!actorRole) throw permissionDenied("you are no longer a member of this organization");
        if (!mayManageMembers(actorRole)) throw permissionDenied("only owners and admins change roles");
        if (!targetRole) throw notFound("no such member in this organization");
        const refusal = roleChangeRefusal({
          actorId: session.userId,
          actorRole,
          targetId: userId,
          targetRole,
          newRole: role,
        });
        if (refusal) throw refusal;
        if (targetRole !== role) {
          await tx.query(`UPDATE memberships SET role = $3 WHERE organization_id = $1 AND user_id = $2`, [
            session.organizationId,
            userId,
            role,
          ]);
        }
        const { rows } = await tx.query<MemberRow>(`${selectMembers} WHERE m.organization_id = $1 AND m.user_id = $2`, [
          session.organizationId,
          userId,
        ]);
        const revocation: Revocation | undefined =
          targetRole !== role ? { kind: "member", userId, organizationId: session.organizationId } : undefined;
        return { result: toMember(rows[0]!), revocation };
      });
    },

    async remove(session, userId) {
      await revocations.commit(async (tx) => {
        const roles = await lockedRoles(tx, session.organizationId);
        const actorRole = roles.get(session.userId);
        const targetRole = roles.get(userId);
        if (!actorRole) throw permissionDenied("you are no longer a member of this organization");
        if (!mayManageMembers(actorRole)) throw permissionDenied("only owners and admins remove members");
        if (!targetRole) throw notFound("no such member in this organization");
        const ownerCount = [...roles.values()].filter((r) => r === "owner").length;
        const refusal = removalRefusal({
          actorId: session.userId,
          actorRole,
          targetId: userId,
          targetRole,
          ownerCount,
        });
        if (refusal) throw refusal;
        await tx.query(`DELETE FROM memberships WHERE organization_id = $1 AND user_id = $2`, [
          session.organizationId,
          userId,
        ]);
        const at = now();
        await revokeSessionRows(
          tx,
          await liveSessionIds(tx, { userId, organizationId: session.organizationId }, at),
          at,
        );
        // A member revocation covers their sessions here: token checks and sockets go by user and organization.
        return { result: undefined, revocation: { kind: "member", userId, organizationId: session.organizationId } };
      });
    },
  };
}
