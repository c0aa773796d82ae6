import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { parseCookie } from "cookie";
import type { FastifyPluginAsync } from "fastify";
import { migrate, type Database, type Migration } from "@sluice/database";
import type { Session } from "@sluice/rpc";
import { AccessTokens, unauthenticated } from "./access-tokens";
import { seedDemo, type DemoSeed } from "./demo";
import { PasswordHasher, productionHashCost, type HashCost } from "./password-hasher";
import { accessCookieName, createIdentityPlugin } from "./plugin";
import { roleFromName, type RoleName } from "./roles";
import { identityMigrations } from "./schema";
import { IdentityConfigError } from "./config-error";
import { loadSigningKey } from "./signing-key";

export const defaultAccessTokenTtlSeconds = 15 * 60;

export interface IdentityOptions {
  /** createIdentity applies `identityMigrations` to it (a no-op when the server already has). */
  readonly db: Database;
  /** Embedded shape: the signing key is generated once and kept in `<dataDir>/keys/`. */
  readonly dataDir?: string | undefined;
  /** PKCS#8 PEM (Ed25519 or P-256), e.g. SLUICE_JWT_PRIVATE_KEY; wins over dataDir. */
  readonly privateKeyPem?: string | undefined;
  readonly accessTokenTtlSeconds?: number | undefined;
  /** argon2id cost; the production cost by default. Tests pass `lowHashCost`. */
  readonly hashCost?: HashCost | undefined;
  /** Unix milliseconds; tests move time with it. */
  readonly now?: (() => number) | undefined;
}

/** A user as the client sees it. */
export interface UserProfile {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly role: RoleName;
  readonly organizationId: string;
  readonly organizationName: string;
}

export interface SignedIn {
  readonly accessToken: string;
  /** Unix milliseconds. */
  readonly expiresAt: number;
  readonly session: Session;
  readonly user: UserProfile;
}

export interface Identity {
  readonly migrations: readonly Migration[];
  /** Fastify plugin: POST /auth/signin, POST /auth/signout, GET /auth/me. */
  readonly plugin: FastifyPluginAsync;
  readonly accessTokenTtlSeconds: number;
  /** Reads `Authorization: Bearer <token>`, else the `sluice_access` cookie. Throws UNAUTHENTICATED. */
  authenticate(headers: IncomingHttpHeaders): Promise<Session>;
  /** Signature, aud, iss, exp, and a session that is neither revoked nor expired. Throws UNAUTHENTICATED. */
  verifyAccessToken(token: string): Promise<Session>;
  /** Throws UNAUTHENTICATED, the same for an unknown email and a wrong password. */
  signIn(email: string, password: string): Promise<SignedIn>;
  /** Revokes the session: tokens naming it stop working at once. */
  signOut(sessionId: string): Promise<void>;
  profile(userId: string): Promise<UserProfile | undefined>;
  /** Idempotent: Acme Logistics (ana, ben, vera) and Globex Freight (gina), password "dispatch". */
  seedDemo(): Promise<DemoSeed>;
}

interface UserRow {
  id: string;
  email: string;
  display_name: string;
  password_hash: string;
  role: string;
  organization_id: string;
  organization_name: string;
}

const selectUser = `
  SELECT u.id, u.email, u.display_name, u.password_hash, u.role, u.organization_id, o.name AS organization_name
  FROM users u JOIN organizations o ON o.id = u.organization_id`;

export async function createIdentity(options: IdentityOptions): Promise<Identity> {
  const { db } = options;
  await migrate(db, identityMigrations);
  const ttl = options.accessTokenTtlSeconds ?? defaultAccessTokenTtlSeconds;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 24 * 3600) {
    throw new IdentityConfigError(`accessTokenTtlSeconds must be a whole number from 1 to 86400, got ${ttl}`);
  }
  const now = options.now ?? Date.now;
  const key = await loadSigningKey({ privateKeyPem: options.privateKeyPem, dataDir: options.dataDir });
  const tokens = new AccessTokens(key, ttl, now);
  const hasher = new PasswordHasher(options.hashCost ?? productionHashCost);

  async function verifyAccessToken(token: string): Promise<Session> {
    const claims = await tokens.verify(token);
    // The session row decides: a signed-out session is dead even while its token has not expired.
    // Role and name come from the user row, so a changed role applies to the next check.
    const { rows } = await db.query<{
      user_id: string;
      organization_id: string;
      revoked: boolean;
      expired: boolean;
      role: string;
      display_name: string;
    }>(
      `SELECT s.user_id, s.organization_id, s.revoked_at IS NOT NULL AS revoked,
              s.expires_at <= $2::timestamptz AS expired, u.role, u.display_name
       FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.id = $1`,
      [claims.sessionId, new Date(now()).toISOString()],
    );
    const row = rows[0];
    if (!row || row.user_id !== claims.userId || row.organization_id !== claims.organizationId) {
      throw unauthenticated("access token names no session: sign in again");
    }
    if (row.revoked) throw unauthenticated("session was signed out: sign in again");
    if (row.expired) throw unauthenticated("session expired: sign in again");
    const role = roleFromName(row.role);
    if (role === undefined) throw unauthenticated("user has no usable role");
    return {
      sessionId: claims.sessionId,
      userId: row.user_id,
      displayName: row.display_name,
      organizationId: row.organization_id,
      role,
      expiresAt: claims.expiresAt,
    };
  }

  async function authenticate(headers: IncomingHttpHeaders): Promise<Session> {
    const token = accessTokenFrom(headers);
    if (token === undefined) {
      throw unauthenticated(`no access token: send "Authorization: Bearer <token>" or the ${accessCookieName} cookie`);
    }
    return verifyAccessToken(token);
  }

  async function signIn(email: string, password: string): Promise<SignedIn> {
    const { rows } = await db.query<UserRow>(`${selectUser} WHERE u.email = $1`, [normalizeEmail(email)]);
    const row = rows[0];
    const passwordMatches = row
      ? await hasher.verify(row.password_hash, password)
      : await hasher.verifyAgainstDummy(password);
    const role = row ? roleFromName(row.role) : undefined;
    if (!row || !passwordMatches || role === undefined) throw unauthenticated("wrong email or password");

    const sessionId = randomUUID();
    const expiresAt = tokens.nextExpiry();
    await db.query(
      `INSERT INTO sessions (id, user_id, organization_id, created_at, expires_at)
       VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz)`,
      [sessionId, row.id, row.organization_id, new Date(now()).toISOString(), new Date(expiresAt).toISOString()],
    );
    const session: Session = {
      sessionId,
      userId: row.id,
      displayName: row.display_name,
      organizationId: row.organization_id,
      role,
      expiresAt,
    };
    const accessToken = await tokens.sign(session);
    return { accessToken, expiresAt, session, user: toProfile(row) };
  }

  async function signOut(sessionId: string): Promise<void> {
    await db.query(`UPDATE sessions SET revoked_at = $2::timestamptz WHERE id = $1 AND revoked_at IS NULL`, [
      sessionId,
      new Date(now()).toISOString(),
    ]);
  }

  async function profile(userId: string): Promise<UserProfile | undefined> {
    const { rows } = await db.query<UserRow>(`${selectUser} WHERE u.id = $1`, [userId]);
    return rows[0] && toProfile(rows[0]);
  }

  const core = { authenticate, verifyAccessToken, signIn, signOut, profile, accessTokenTtlSeconds: ttl };
  return {
    ...core,
    migrations: identityMigrations,
    plugin: createIdentityPlugin(core),
    seedDemo: () => seedDemo(db, hasher),
  };
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function accessTokenFrom(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) throw unauthenticated('Authorization header must be "Bearer <token>"');
    return match[1];
  }
  const cookieHeader = headers.cookie;
  if (cookieHeader === undefined) return undefined;
  const value = parseCookie(cookieHeader)[accessCookieName];
  return value ? value : undefined;
}

function toProfile(row: UserRow): UserProfile {
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    role: row.role as RoleName,
    organizationId: row.organization_id,
    organizationName: row.organization_name,
  };
}
