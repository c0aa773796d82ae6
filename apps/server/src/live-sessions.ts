import type { Queryable } from "@sluice/database";
import { roleFromName } from "@sluice/identity";
import type { LiveSession } from "@sluice/source-gateway";

/**
 * The gateway's periodic re-check: which of these sessions are live now (not revoked, not
 * expired, the user still a member) and with what role. One query for a whole batch, on the
 * primary key. The rule is identity's own (`readSession` in packages/identity); it belongs there
 * as a batch twin of it, and moves there when identity exposes one.
 */
export function liveSessions(db: Queryable, now: () => number) {
  return async (sessionIds: readonly string[]): Promise<ReadonlyMap<string, LiveSession>> => {
    const { rows } = await db.query<{ id: string; user_id: string; organization_id: string; role: string }>(
      `SELECT s.id, s.user_id, s.organization_id, m.role
       FROM sessions s
       JOIN memberships m ON m.organization_id = s.organization_id AND m.user_id = s.user_id
       WHERE s.id = ANY($1) AND s.revoked_at IS NULL AND s.expires_at > $2::timestamptz`,
      [sessionIds, new Date(now()).toISOString()],
    );
    const live = new Map<string, LiveSession>();
    for (const row of rows) {
      const role = roleFromName(row.role);
      if (role !== undefined) live.set(row.id, { userId: row.user_id, organizationId: row.organization_id, role });
    }
    return live;
  };
}
