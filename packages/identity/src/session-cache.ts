import type { Revocation } from "./revocations";

/** What a session row said when last read: enough to answer verifyAccessToken without a query. */
export interface CachedSession {
  readonly userId: string;
  readonly organizationId: string;
  readonly displayName: string;
  readonly roleName: string;
  /** Unix milliseconds: the session's own end (not the token's). */
  readonly sessionExpiresAt: number;
}

/**
 * Live sessions seen in the last `ttlMs`, so a burst of WebSocket upgrades costs a signature check
 * each and not a query each. This process drops an entry the moment it revokes it (`forget`);
 * another process's revocation reaches this one within `ttlMs`.
 */
export class SessionCache {
  readonly #entries = new Map<string, { session: CachedSession; readAt: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(ttlMs: number, maxEntries: number, now: () => number) {
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  get(sessionId: string): CachedSession | undefined {
    const entry = this.#entries.get(sessionId);
    if (!entry) return undefined;
    if (this.#now() - entry.readAt >= this.#ttlMs) {
      this.#entries.delete(sessionId);
      return undefined;
    }
    return entry.session;
  }

  set(sessionId: string, session: CachedSession): void {
    if (this.#ttlMs <= 0) return;
    this.#entries.delete(sessionId);
    if (this.#entries.size >= this.#maxEntries) {
      // Maps iterate in insertion order: the first key is the oldest read.
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(sessionId, { session, readAt: this.#now() });
  }

  forget(revocation: Revocation): void {
    if (revocation.kind === "sessions") {
      for (const id of revocation.sessionIds) this.#entries.delete(id);
      return;
    }
    for (const [id, entry] of this.#entries) {
      if (entry.session.userId === revocation.userId && entry.session.organizationId === revocation.organizationId) {
        this.#entries.delete(id);
      }
    }
  }
}
