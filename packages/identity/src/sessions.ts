import { randomUUID } from "node:crypto";
import type { Queryable } from "@sluice/database";
import { hashOpaqueToken, newOpaqueToken } from "./opaque-token";

// Sessions and their refresh tokens. A session is one sign-in on one device in one organization,
// and the family of the refresh tokens that continue it: each refresh rotates the token, and a
// rotated token presented again revokes the session (whoever holds the newer token loses it too).

export interface NewSession {
  readonly userId: string;
  readonly organizationId: string;
  readonly userAgent: string | undefined;
  /** Unix milliseconds. */
  readonly now: number;
  readonly expiresAt: number;
}

/** Writes a session and its first refresh token; answers both ids. The token is never stored. */
export async function startSession(
  tx: Queryable,
  session: NewSession,
): Promise<{ sessionId: string; refreshToken: string }> {
  const sessionId = randomUUID();
  const at = iso(session.now);
  await tx.query(
    `INSERT INTO sessions (id, user_id, organization_id, created_at, last_used_at, expires_at, user_agent)
     VALUES ($1, $2, $3, $4::timestamptz, $4::timestamptz, $5::timestamptz, $6)`,
    [sessionId, session.userId, session.organizationId, at, iso(session.expiresAt), session.userAgent ?? null],
  );
  const refreshToken = await addRefreshToken(tx, sessionId, session.now);
  return { sessionId, refreshToken };
}

async function addRefreshToken(tx: Queryable, sessionId: string, now: number): Promise<string> {
  const token = newOpaqueToken();
  await tx.query(`INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3::timestamptz)`, [
    hashOpaqueToken(token),
    sessionId,
    iso(now),
  ]);
  return token;
}

export type Rotation =
  | {
      readonly kind: "rotated";
      readonly sessionId: string;
      readonly userId: string;
      readonly organizationId: string;
      readonly refreshToken: string;
      readonly sessionExpiresAt: number;
    }
  /** A token already rotated, presented again: the session is revoked now. */
  | { readonly kind: "reused"; readonly sessionId: string }
  /** Rotated a moment ago (two tabs refreshing at once): refused, but the session lives. */
  | { readonly kind: "just-rotated" }
  | { readonly kind: "invalid"; readonly reason: string };

/** Exchanges a refresh token for the next one, in the caller's transaction. */
export async function rotateRefreshToken(
  tx: Queryable,
  token: string,
  now: number,
  reuseGraceMs: number,
  userAgent: string | undefined,
): Promise<Rotation> {
  const { rows } = await tx.query<{
    session_id: string;
    rotated_ms: number | null;
    user_id: string;
    organization_id: string;
    revoked: boolean;
    expires_ms: number;
  }>(
    `SELECT t.session_id, (extract(epoch FROM t.rotated_at) * 1000)::float8 AS rotated_ms,
            s.user_id, s.organization_id, s.revoked_at IS NOT NULL AS revoked,
            (extract(epoch FROM s.expires_at) * 1000)::float8 AS expires_ms
     FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
     WHERE t.token_hash = $1
     FOR UPDATE OF t, s`,
    [hashOpaqueToken(token)],
  );
  const row = rows[0];
  if (!row) return { kind: "invalid", reason: "refresh token is not valid: sign in again" };
  if (row.revoked) return { kind: "invalid", reason: "session was signed out: sign in again" };
  if (row.rotated_ms !== null) {
    if (now - row.rotated_ms < reuseGraceMs) return { kind: "just-rotated" };
    await revokeSessionRows(tx, [row.session_id], now);
    return { kind: "reused", sessionId: row.session_id };
  }
  if (row.expires_ms <= now) return { kind: "invalid", reason: "session expired: sign in again" };

  await tx.query(`UPDATE refresh_tokens SET rotated_at = $2::timestamptz WHERE token_hash = $1`, [
    hashOpaqueToken(token),
    iso(now),
  ]);
  await tx.query(
    `UPDATE sessions SET last_used_at = $2::timestamptz, user_agent = coalesce($3, user_agent) WHERE id = $1`,
    [row.session_id, iso(now), userAgent ?? null],
  );
  return {
    kind: "rotated",
    sessionId: row.session_id,
    userId: row.user_id,
    organizationId: row.organization_id,
    refreshToken: await addRefreshToken(tx, row.session_id, now),
    sessionExpiresAt: row.expires_ms,
  };
}

/** Marks the given sessions revoked; answers the ids that were live until now. */
export async function revokeSessionRows(tx: Queryable, sessionIds: readonly string[], now: number): Promise<string[]> {
  if (sessionIds.length === 0) return [];
  const { rows } = await tx.query<{ id: string }>(
    `UPDATE sessions SET revoked_at = $2::timestamptz WHERE id = ANY($1) AND revoked_at IS NULL RETURNING id`,
    [sessionIds, iso(now)],
  );
  return rows.map((row) => row.id);
}

/** The live sessions of a user, optionally in one organization and sparing one; answers their ids. */
export async function liveSessionIds(
  tx: Queryable,
  filter: { userId: string; organizationId?: string | undefined; except?: string | undefined },
  now: number,
): Promise<string[]> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT id FROM sessions
     WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2::timestamptz
       AND ($3::text IS NULL OR organization_id = $3) AND ($4::text IS NULL OR id <> $4)`,
    [filter.userId, iso(now), filter.organizationId ?? null, filter.except ?? null],
  );
  return rows.map((row) => row.id);
}

export interface SessionSummary {
  readonly id: string;
  /** Unix milliseconds. */
  readonly createdAt: number;
  readonly lastUsedAt: number;
  readonly userAgent: string | null;
}

export async function listLiveSessions(tx: Queryable, userId: string, now: number): Promise<SessionSummary[]> {
  const { rows } = await tx.query<{ id: string; created_ms: number; last_used_ms: number; user_agent: string | null }>(
    `SELECT id, (extract(epoch FROM created_at) * 1000)::float8 AS created_ms,
            (extract(epoch FROM last_used_at) * 1000)::float8 AS last_used_ms, user_agent
     FROM sessions
     WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2::timestamptz
     ORDER BY last_used_at DESC, id`,
    [userId, iso(now)],
  );
  return rows.map((row) => ({
    id: row.id,
    createdAt: row.created_ms,
    lastUsedAt: row.last_used_ms,
    userAgent: row.user_agent,
  }));
}

export function iso(unixMs: number): string {
  return new Date(unixMs).toISOString();
}
