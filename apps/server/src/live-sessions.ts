import type { Queryable } from "@sluice/database";
import { roleFromName } from "@sluice/identity";
import type { Session } from "@sluice/rpc";

/**
 * The gateway's periodic re-check: which of these sessions are live now (not revoked, not
 * expired, the user still a member) and with what role. One query for a whole batch, on the
 * primary key. The rule is identity's own (`readSession` in packages/identity); it belongs there
 * as a batch twin of it, and moves there when identity exposes one.
 * `expiresAt` here is the session's end, not an access token's.
 */
export function liveSessions(db: Queryable, now: () => number) {
  return async (sessionIds: readonly string[]): Promise<ReadonlyMap<string, Session>> => {
    const { rows } = await db.query<{
      id: string;
      user_id: string;
      organization_id: string;
      role: string;
      display_name: string;
      expires_ms: number;
    }>(
      `SELECT s.id, s.user_id, s.organization_id, m.role, u.display_name,
              (extract(epoch FROM s.expires_at) * 1000)::float8 AS expires_ms
       FROM sessions s
       JOIN users u ON u.id = s.user_id
       JOIN memberships m ON m.user_id = s.user_id AND m.organization_id = s.organization_id
       WHERE s.id = ANY($1) AND s.revoked_at IS NULL AND s.expires_at > $2::timestamptz`,
      [sessionIds, new Date(now()).toISOString()],
    );
    const live = new Map<string, Session>();
    for (const row of rows) {
      const role = roleFromName(row.role);
      if (role === undefined) continue;
      live.set(row.id, {
        sessionId: row.id,
        userId: row.user_id,
        organizationId: row.organization_id,
        displayName: row.display_name,
        role,
        expiresAt: row.expires_ms,
      });
    }
    return live;
  };
}
