import { parseOrigin } from "./origin";
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { parseCookie } from "cookie";
import type { FastifyPluginAsync } from "fastify";
import type { JSONWebKeySet } from "jose";
import { migrate, type Database, type Migration } from "@sluice/database";
import type { Session } from "@sluice/rpc";
import { AccessTokens, type AccessTokenClaims } from "./access-tokens";
import { IdentityConfigError } from "./config-error";
import { seedDemo, type DemoSeed } from "./demo";
import { alreadyExists, notFound, permissionDenied, unauthenticated } from "./errors";
import { createInvitations, type Invitations } from "./invitations";
import { databaseKeyRing, staticKeyRing } from "./key-ring";
import { createMembers, type Members } from "./members";
import { hashOpaqueToken } from "./opaque-token";
import { PasswordHasher, productionHashCost, type HashCost } from "./password-hasher";
import { accessCookieName, createIdentityPlugin } from "./plugin";
import { Revocations, type Revocation, type RevocationListener } from "./revocations";
import { roleFromName, type RoleName } from "./roles";
import { identityMigrations } from "./schema";
import {
  iso,
  listLiveSessions,
  liveSessionIds,
  revokeSessionRows,
  rotateRefreshToken,
  startSession,
  type SessionSummary,
} from "./sessions";
import {
  defaultSignInLimits,
  MemoryAttemptCounters,
  SignInThrottle,
  type AttemptCounters,
  type SignInLimits,
} from "./sign-in-throttle";

export const defaultAccessTokenTtlSeconds = 15 * 60;
const day = 24 * 3600 * 1000;

/** Where identity reports what it does not answer to a caller: a pino logger fits. */
export interface IdentityLogger {
  info(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface IdentityOptions {
  /** createIdentity applies `identityMigrations` to it (a no-op when the server already has). */
  readonly db: Database;
  /** PKCS#8 PEM (Ed25519 or P-256), e.g. SLUICE_JWT_PRIVATE_KEY: it alone signs. Without it, keys live in the database and rotate. */
  readonly privateKeyPem?: string | undefined;
  /** Database keys: how long one key signs before the next takes over. Default 30. */
  readonly signingKeyRotationDays?: number | undefined;
  readonly accessTokenTtlSeconds?: number | undefined;
  /** A sign-in lasts this long at most, refreshed or not. Default 30 days. */
  readonly sessionTtlDays?: number | undefined;
  /** An invitation link works this long. Default 7 days. */
  readonly invitationTtlDays?: number | undefined;
  /**
   * A refresh token presented again within this many seconds of its rotation is refused without
   * revoking the session: two tabs refreshing at once are not an attack. Default 2 (short: the window
   * is a thief's too).
   */
  readonly refreshReuseGraceSeconds?: number | undefined;
  /**
   * Origins whose requests may change things on /auth, besides the server's own (the request's
   * Host). E.g. a Vite dev server's "http://localhost:5173".
   */
  readonly allowedOrigins?: readonly string[] | undefined;
  /** Sign-in rate limits and lockout; defaults in docs/identity.md. */
  readonly signInLimits?: SignInLimits | undefined;
  /** Where attempt counters live; in this process's memory by default. */
  readonly attemptCounters?: AttemptCounters | undefined;
  /** How often to read revocations other processes made (ms); this process's own apply at once. Default 1000. */
  readonly revocationPollMs?: number | undefined;
  /** argon2id cost; the production cost by default. Tests pass `lowHashCost`. */
  readonly hashCost?: HashCost | undefined;
  readonly logger?: IdentityLogger | undefined;
  /** Unix milliseconds; tests move time with it. */
  readonly now?: (() => number) | undefined;
}

/** A user as the client sees it: the account, in the organization of the session. */
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
  /** Unix milliseconds: when the access token expires. */
  readonly expiresAt: number;
  /** Continues the session at POST /auth/refresh; in a cookie for browsers, in the body for SDKs. */
  readonly refreshToken: string;
  /** Unix milliseconds: when the session ends, refreshed or not. */
  readonly sessionExpiresAt: number;
  readonly session: Session;
  readonly user: UserProfile;
}

/** Where a request came from, for throttling and the sessions list. */
export interface ClientContext {
  readonly clientAddress?: string | undefined;
  readonly userAgent?: string | undefined;
}

export interface SignUp {
  readonly organizationName: string;
  readonly displayName: string;
  readonly email: string;
  readonly password: string;
}

export interface Identity {
  readonly migrations: readonly Migration[];
  /** Fastify plugin: the /auth routes and /.well-known/jwks.json (docs/identity.md). */
  readonly plugin: FastifyPluginAsync;
  readonly accessTokenTtlSeconds: number;
  /** Reads `Authorization: Bearer <token>`, else the `sluice_access` cookie. Throws UNAUTHENTICATED. */
  authenticate(headers: IncomingHttpHeaders): Promise<Session>;
  /** Key, signature, aud, iss, exp, a live session and a membership. Throws UNAUTHENTICATED. */
  verifyAccessToken(token: string): Promise<Session>;
  /**
   * Throws UNAUTHENTICATED, the same for an unknown email and a wrong password, and
   * RATE_LIMITED (TooManyAttempts) while the email or address is locked out.
   */
  signIn(email: string, password: string, options?: ClientContext & { organizationId?: string }): Promise<SignedIn>;
  /** Revokes the session: tokens naming it stop working at once. */
  signOut(sessionId: string): Promise<void>;
  profile(userId: string, organizationId: string): Promise<UserProfile | undefined>;
  /** Idempotent: Acme Logistics (ana owner, ben dispatcher, vera viewer), Globex Freight (gina owner); password "dispatch". */
  seedDemo(): Promise<DemoSeed>;
  /**
   * Told after each revocation commits: this process's at once, other processes' (same database)
   * within `revocationPollMs`. Returns the unsubscribe.
   */
  onRevoked(listener: RevocationListener): () => void;
  /** Stops following the revocation log; call before closing the database. */
  close(): void;
}

/** What the plugin needs beyond the public Identity. */
export interface IdentityService extends Identity {
  /** Unix milliseconds, the clock identity runs on. */
  readonly now: () => number;
  /** Normalized (`parseOrigin`). */
  readonly allowedOrigins: ReadonlySet<string>;
  readonly members: Members;
  readonly invitations: Omit<Invitations, "accept">;
  signUp(request: SignUp, context: ClientContext): Promise<SignedIn>;
  refresh(refreshToken: string, context: ClientContext): Promise<SignedIn>;
  signOutEverywhere(userId: string): Promise<void>;
  /** Revokes the session a refresh token (current or rotated) belongs to. */
  signOutByRefreshToken(refreshToken: string): Promise<void>;
  sessions(userId: string): Promise<SessionSummary[]>;
  revokeSession(session: Session, sessionId: string): Promise<void>;
  changePassword(session: Session, currentPassword: string, newPassword: string, context: ClientContext): Promise<void>;
  acceptInvitation(
    acceptance: { token: string; displayName?: string | undefined; password: string },
    context: ClientContext,
  ): Promise<SignedIn>;
  jwks(): Promise<JSONWebKeySet>;
}

interface MembershipRow {
  user_id: string;
  email: string;
  display_name: string;
  role: RoleName;
  organization_id: string;
  organization_name: string;
}

const selectMembership = `
  SELECT u.id AS user_id, u.email, u.display_name, m.role, m.organization_id, o.name AS organization_name
  FROM users u JOIN memberships m ON m.user_id = u.id JOIN organizations o ON o.id = m.organization_id`;

function positive(name: string, value: number, max: number): number {
  if (!Number.isFinite(value) || value <= 0 || value > max) {
    throw new IdentityConfigError(`${name} must be a number above 0 and at most ${max}, got ${value}`);
  }
  return value;
}

export async function createIdentity(options: IdentityOptions): Promise<IdentityService> {
  const { db } = options;
  await migrate(db, identityMigrations);
  const ttl = options.accessTokenTtlSeconds ?? defaultAccessTokenTtlSeconds;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 24 * 3600) {
    throw new IdentityConfigError(`accessTokenTtlSeconds must be a whole number from 1 to 86400, got ${ttl}`);
  }
  const sessionTtlMs = positive("sessionTtlDays", options.sessionTtlDays ?? 30, 366) * day;
  const invitationTtlMs = positive("invitationTtlDays", options.invitationTtlDays ?? 7, 90) * day;
  const rotateAfterMs = positive("signingKeyRotationDays", options.signingKeyRotationDays ?? 30, 366) * day;
  const reuseGraceMs = (options.refreshReuseGraceSeconds ?? 2) * 1000;
  const revocationPollMs = options.revocationPollMs ?? 1000;
  if (!(reuseGraceMs >= 0 && reuseGraceMs <= 60_000)) {
    throw new IdentityConfigError("refreshReuseGraceSeconds must be from 0 to 60");
  }
  if (!(revocationPollMs >= 10 && revocationPollMs <= 60_000)) {
    throw new IdentityConfigError("revocationPollMs must be from 10 to 60000");
  }
  const allowedOrigins = new Set(
    (options.allowedOrigins ?? []).map((origin) => {
      const parsed = parseOrigin(origin);
      if (!parsed) {
        throw new IdentityConfigError(
          `allowed origin ${JSON.stringify(origin)} is not an origin like https://host:port`,
        );
      }
      return parsed.origin;
    }),
  );

  const now = options.now ?? Date.now;
  const logger = options.logger;
  const keys =
    options.privateKeyPem !== undefined
      ? await staticKeyRing(options.privateKeyPem, now)
      : await databaseKeyRing({ db, now, rotateAfterMs, tokenTtlMs: ttl * 1000 });
  const tokens = new AccessTokens(keys, ttl, now);
  const hasher = new PasswordHasher(options.hashCost ?? productionHashCost);
  const throttle = new SignInThrottle(
    options.attemptCounters ?? new MemoryAttemptCounters(now),
    options.signInLimits ?? defaultSignInLimits,
    now,
  );
  const revocations = await Revocations.start({
    db,
    now,
    tokenTtlMs: ttl * 1000,
    pollMs: revocationPollMs,
    onListenerError: (error) => logger?.error({ err: error }, "revocation listener failed"),
    onPollError: (error) => logger?.error({ err: error }, "reading revocations failed"),
  });

  const members = createMembers(revocations, db, now);
  const invitations = createInvitations({ db, hasher, throttle, ttlMs: invitationTtlMs, now, normalizeEmail });

  /** The session and membership rows, for a token whose membership changed after it was issued. */
  async function sessionFromRows(claims: AccessTokenClaims): Promise<Session> {
    const { rows } = await db.query<{
      user_id: string;
      organization_id: string;
      revoked: boolean;
      expires_ms: number;
      role: string | null;
      display_name: string;
    }>(
      `SELECT s.user_id, s.organization_id, s.revoked_at IS NOT NULL AS revoked,
              (extract(epoch FROM s.expires_at) * 1000)::float8 AS expires_ms, m.role, u.display_name
       FROM sessions s JOIN users u ON u.id = s.user_id
       LEFT JOIN memberships m ON m.user_id = s.user_id AND m.organization_id = s.organization_id
       WHERE s.id = $1`,
      [claims.sessionId],
    );
    const row = rows[0];
    if (!row || row.user_id !== claims.userId || row.organization_id !== claims.organizationId) {
      throw unauthenticated("access token names no session: sign in again");
    }
    if (row.revoked) throw unauthenticated("session was signed out: sign in again");
    if (row.expires_ms <= now()) throw unauthenticated("session expired: sign in again");
    const role = row.role === null ? undefined : roleFromName(row.role);
    if (role === undefined) throw unauthenticated("no longer a member of this organization");
    return { ...sessionOf(claims), role, displayName: row.display_name };
  }

  async function verifyAccessToken(token: string): Promise<Session> {
    const claims = await tokens.verify(token);
    // A token never outlives its session, so a valid signature leaves two questions: was the
    // session revoked, and did the membership change after the token was issued? The revocation
    // log answers both from memory; only a changed membership sends the check to the rows.
    if (revocations.sessionRevoked(claims.sessionId)) throw unauthenticated("session was signed out: sign in again");
    if (revocations.memberChangedSince(claims.userId, claims.organizationId, claims.issuedAt)) {
      return sessionFromRows(claims);
    }
    return sessionOf(claims);
  }

  async function authenticate(headers: IncomingHttpHeaders): Promise<Session> {
    const token = accessTokenFrom(headers);
    if (token === undefined) {
      throw unauthenticated(`no access token: send "Authorization: Bearer <token>" or the ${accessCookieName} cookie`);
    }
    return verifyAccessToken(token);
  }

  async function membershipOf(userId: string, organizationId: string): Promise<MembershipRow | undefined> {
    const { rows } = await db.query<MembershipRow>(`${selectMembership} WHERE u.id = $1 AND m.organization_id = $2`, [
      userId,
      organizationId,
    ]);
    return rows[0];
  }

  /** Signs an access token for a session that now exists. */
  async function signedIn(
    membership: MembershipRow,
    sessionId: string,
    refreshToken: string,
    sessionExpiresAt: number,
  ): Promise<SignedIn> {
    const role = roleFromName(membership.role);
    if (role === undefined) throw unauthenticated("user has no usable role");
    // An access token never outlives its session.
    const expiresAt = Math.min(tokens.nextExpiry(), Math.floor(sessionExpiresAt / 1000) * 1000);
    const session: Session = {
      sessionId,
      userId: membership.user_id,
      displayName: membership.display_name,
      organizationId: membership.organization_id,
      role,
      expiresAt,
    };
    const accessToken = await tokens.sign(session);
    return { accessToken, expiresAt, refreshToken, sessionExpiresAt, session, user: toProfile(membership) };
  }

  async function startSignedIn(membership: MembershipRow, context: ClientContext): Promise<SignedIn> {
    const at = now();
    const sessionExpiresAt = at + sessionTtlMs;
    const { sessionId, refreshToken } = await db.transaction((tx) =>
      startSession(tx, {
        userId: membership.user_id,
        organizationId: membership.organization_id,
        userAgent: context.userAgent,
        now: at,
        expiresAt: sessionExpiresAt,
      }),
    );
    return signedIn(membership, sessionId, refreshToken, sessionExpiresAt);
  }

  async function signIn(
    email: string,
    password: string,
    context: ClientContext & { organizationId?: string | undefined } = {},
  ): Promise<SignedIn> {
    const subject = { email: normalizeEmail(email), clientAddress: context.clientAddress };
    await throttle.admit(subject);
    const { rows } = await db.query<{ id: string; password_hash: string }>(
      `SELECT id, password_hash FROM users WHERE email = $1`,
      [subject.email],
    );
    const user = rows[0];
    const passwordMatches = user
      ? await hasher.verify(user.password_hash, password)
      : await hasher.verifyAgainstDummy(password);
    if (!user || !passwordMatches) {
      await throttle.failed(subject);
      throw unauthenticated("wrong email or password");
    }
    await throttle.succeeded(subject);

    // The organization asked for, else the first the user joined.
    const { rows: memberships } = await db.query<MembershipRow>(
      `${selectMembership} WHERE u.id = $1 ORDER BY m.created_at, m.organization_id`,
      [user.id],
    );
    const membership = context.organizationId
      ? memberships.find((m) => m.organization_id === context.organizationId)
      : memberships[0];
    if (!membership) {
      throw permissionDenied(
        context.organizationId ? "not a member of that organization" : "not a member of any organization",
      );
    }
    return startSignedIn(membership, context);
  }

  async function signUp(request: SignUp, context: ClientContext): Promise<SignedIn> {
    const email = normalizeEmail(request.email);
    await throttle.admit({ email, clientAddress: context.clientAddress });
    const taken = await db.query(`SELECT 1 FROM users WHERE email = $1`, [email]);
    if (taken.rows.length > 0) throw alreadyExists("an account with this email exists: sign in instead");
    const passwordHash = await hasher.hash(request.password);
    const organizationId = randomUUID();
    const userId = randomUUID();
    await db.transaction(async (tx) => {
      const at = iso(now());
      await tx.query(`INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3::timestamptz)`, [
        organizationId,
        request.organizationName.trim(),
        at,
      ]);
      const { rows } = await tx.query(
        `INSERT INTO users (id, organization_id, email, display_name, password_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6::timestamptz) ON CONFLICT (email) DO NOTHING RETURNING id`,
        [userId, organizationId, email, request.displayName.trim(), passwordHash, at],
      );
      if (rows.length === 0) throw alreadyExists("an account with this email exists: sign in instead");
      await tx.query(
        `INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES ($1, $2, 'owner', $3::timestamptz)`,
        [organizationId, userId, at],
      );
    });
    const membership = await membershipOf(userId, organizationId);
    if (!membership) throw new Error("the new owner's membership is missing");
    return startSignedIn(membership, context);
  }

  async function refresh(refreshToken: string, context: ClientContext): Promise<SignedIn> {
    const rotation = await revocations.commit(async (tx) => {
      const result = await rotateRefreshToken(tx, refreshToken, now(), reuseGraceMs, context.userAgent);
      const revocation: Revocation | undefined =
        result.kind === "reused" ? { kind: "sessions", sessionIds: [result.sessionId] } : undefined;
      return { result, revocation };
    });
    switch (rotation.kind) {
      case "reused":
        throw unauthenticated("refresh token was already used: the session is revoked, sign in again");
      case "just-rotated":
        throw unauthenticated("refresh token was just replaced: use the newer one");
      case "invalid":
        throw unauthenticated(rotation.reason);
    }
    const membership = await membershipOf(rotation.userId, rotation.organizationId);
    if (!membership) throw unauthenticated("no longer a member of this organization");
    return signedIn(membership, rotation.sessionId, rotation.refreshToken, rotation.sessionExpiresAt);
  }

  async function revokeAndTell(sessionIds: readonly string[]): Promise<void> {
    await revocations.commit(async (tx) => {
      const ids = await revokeSessionRows(tx, sessionIds, now());
      return { result: undefined, revocation: { kind: "sessions", sessionIds: ids } };
    });
  }

  async function signOut(sessionId: string): Promise<void> {
    await revokeAndTell([sessionId]);
  }

  async function signOutEverywhere(userId: string): Promise<void> {
    await revokeAndTell(await liveSessionIds(db, { userId }, now()));
  }

  async function signOutByRefreshToken(refreshToken: string): Promise<void> {
    const { rows } = await db.query<{ session_id: string }>(
      `SELECT session_id FROM refresh_tokens WHERE token_hash = $1`,
      [hashOpaqueToken(refreshToken)],
    );
    if (rows[0]) await revokeAndTell([rows[0].session_id]);
  }

  async function revokeSession(session: Session, sessionId: string): Promise<void> {
    const own = await liveSessionIds(db, { userId: session.userId }, now());
    if (!own.includes(sessionId)) throw notFound("no such session of yours");
    await revokeAndTell([sessionId]);
  }

  async function changePassword(
    session: Session,
    currentPassword: string,
    newPassword: string,
    context: ClientContext,
  ): Promise<void> {
    const { rows } = await db.query<{ email: string; password_hash: string }>(
      `SELECT email, password_hash FROM users WHERE id = $1`,
      [session.userId],
    );
    const user = rows[0];
    if (!user) throw unauthenticated("user no longer exists: sign in again");
    // A stolen session must not become a way to guess the password: throttled like sign-in.
    const subject = { email: user.email, clientAddress: context.clientAddress };
    await throttle.admit(subject);
    if (!(await hasher.verify(user.password_hash, currentPassword))) {
      await throttle.failed(subject);
      throw permissionDenied("the current password is wrong");
    }
    await throttle.succeeded(subject);
    const passwordHash = await hasher.hash(newPassword);
    await revocations.commit(async (tx) => {
      await tx.query(`UPDATE users SET password_hash = $2 WHERE id = $1`, [session.userId, passwordHash]);
      const others = await liveSessionIds(tx, { userId: session.userId, except: session.sessionId }, now());
      const ids = await revokeSessionRows(tx, others, now());
      return { result: undefined, revocation: { kind: "sessions", sessionIds: ids } };
    });
  }

  async function acceptInvitation(
    acceptance: { token: string; displayName?: string | undefined; password: string },
    context: ClientContext,
  ): Promise<SignedIn> {
    const joined = await invitations.accept(acceptance, context.clientAddress);
    const membership = await membershipOf(joined.userId, joined.organizationId);
    if (!membership) throw new Error("the accepted membership is missing");
    return startSignedIn(membership, context);
  }

  async function profile(userId: string, organizationId: string): Promise<UserProfile | undefined> {
    const membership = await membershipOf(userId, organizationId);
    return membership && toProfile(membership);
  }

  async function jwks(): Promise<JSONWebKeySet> {
    return { keys: (await keys.publicKeys()).map((key) => key.jwk) };
  }

  const service: Omit<IdentityService, "plugin"> = {
    migrations: identityMigrations,
    accessTokenTtlSeconds: ttl,
    now,
    allowedOrigins,
    members,
    invitations,
    authenticate,
    verifyAccessToken,
    signIn,
    signOut,
    profile,
    seedDemo: () => seedDemo(db, hasher, now),
    onRevoked: (listener) => revocations.subscribe(listener),
    close: () => revocations.close(),
    signUp,
    refresh,
    signOutEverywhere,
    signOutByRefreshToken,
    sessions: (userId) => listLiveSessions(db, userId, now()),
    revokeSession,
    changePassword,
    acceptInvitation,
    jwks,
  };
  return { ...service, plugin: createIdentityPlugin(service) };
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

function toProfile(row: MembershipRow): UserProfile {
  return {
    id: row.user_id,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    organizationId: row.organization_id,
    organizationName: row.organization_name,
  };
}

function sessionOf(claims: AccessTokenClaims): Session {
  return {
    sessionId: claims.sessionId,
    userId: claims.userId,
    displayName: claims.displayName,
    organizationId: claims.organizationId,
    role: claims.role,
    expiresAt: claims.expiresAt,
  };
}
