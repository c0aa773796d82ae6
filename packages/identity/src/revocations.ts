import type { Database, Queryable } from "@sluice/database";

/** What was taken away; the source gateway closes the sockets it names. */
export type Revocation =
  /** Sign-out, sign-out everywhere, a revoked session, a reused refresh token, a password change. */
  | { readonly kind: "sessions"; readonly sessionIds: readonly string[] }
  /** A member removed or their role changed: every session of that user in that organization. */
  | { readonly kind: "member"; readonly userId: string; readonly organizationId: string };

export type RevocationListener = (revocation: Revocation) => void;

export interface RevocationsOptions {
  readonly db: Database;
  readonly now: () => number;
  /** The longest an access token lives: a revocation matters to token checks this long. */
  readonly tokenTtlMs: number;
  /** How often to read the revocations other processes made. */
  readonly pollMs: number;
  readonly onListenerError: (error: unknown) => void;
  readonly onPollError: (error: unknown) => void;
}

interface LogRow {
  position: string;
  at_ms: number;
  session_ids: string[] | null;
  user_id: string | null;
  organization_id: string | null;
}

/** Commits may land out of position order; each poll re-reads this far back and skips what it saw. */
const overlapMs = 10_000;

/**
 * Every revocation is written to the `revocations` log in the transaction that makes it. This
 * process applies its own at once after commit, and reads other processes' every `pollMs`; either
 * way listeners hear of each once. Token checks ask `sessionRevoked` and `memberChangedSince`
 * instead of querying the session row, so a valid token costs a signature check and two map lookups.
 */
export class Revocations {
  readonly #options: RevocationsOptions;
  readonly #listeners = new Set<RevocationListener>();
  /** Session id → when it was revoked (ms). */
  readonly #revokedSessions = new Map<string, number>();
  /** `${userId} ${organizationId}` → when the membership last changed (ms). */
  readonly #memberChanges = new Map<string, number>();
  /** Log positions applied here → their time, so no revocation is applied or announced twice. */
  readonly #seen = new Map<string, number>();
  #readFrom = 0;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;

  private constructor(options: RevocationsOptions) {
    this.#options = options;
  }

  /** Loads the revocations that still matter (the last token lifetime) and starts following the log. */
  static async start(options: RevocationsOptions): Promise<Revocations> {
    const revocations = new Revocations(options);
    revocations.#readFrom = options.now() - options.tokenTtlMs;
    await revocations.#poll(false);
    revocations.#timer = setInterval(() => void revocations.poll(), options.pollMs);
    revocations.#timer.unref();
    return revocations;
  }

  /** Returns the unsubscribe. */
  subscribe(listener: RevocationListener): () => void {
    // A wrapper per subscription, so subscribing one function twice unsubscribes each separately.
    const entry: RevocationListener = (revocation) => listener(revocation);
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  /**
   * Runs `work` in a transaction; the revocation it answers is logged in that transaction, and
   * applied and announced once it has committed.
   */
  async commit<T>(work: (tx: Queryable) => Promise<{ result: T; revocation?: Revocation | undefined }>): Promise<T> {
    const { result, logged } = await this.#options.db.transaction(async (tx) => {
      const { result, revocation } = await work(tx);
      if (!revocation || (revocation.kind === "sessions" && revocation.sessionIds.length === 0)) {
        return { result, logged: undefined };
      }
      const at = this.#options.now();
      const { rows } = await tx.query<{ position: string }>(
        `INSERT INTO revocations (at, session_ids, user_id, organization_id) VALUES ($1::timestamptz, $2, $3, $4)
         RETURNING position::text AS position`,
        revocation.kind === "sessions"
          ? [new Date(at).toISOString(), revocation.sessionIds, null, null]
          : [new Date(at).toISOString(), null, revocation.userId, revocation.organizationId],
      );
      return { result, logged: { revocation, at, position: rows[0]!.position } };
    });
    if (logged) this.#apply(logged.position, logged.at, logged.revocation, true);
    return result;
  }

  sessionRevoked(sessionId: string): boolean {
    return this.#revokedSessions.has(sessionId);
  }

  /** Whether the membership changed at or after `sinceMs` (less a second: token times are whole seconds). */
  memberChangedSince(userId: string, organizationId: string, sinceMs: number): boolean {
    const changedAt = this.#memberChanges.get(`${userId} ${organizationId}`);
    return changedAt !== undefined && changedAt >= sinceMs - 1000;
  }

  /** Reads what other processes revoked since the last poll. */
  poll(): Promise<void> {
    this.#polling ??= this.#poll(true)
      .catch((error: unknown) => this.#options.onPollError(error))
      .finally(() => {
        this.#polling = undefined;
      });
    return this.#polling;
  }

  close(): void {
    clearInterval(this.#timer);
  }

  async #poll(announce: boolean): Promise<void> {
    const { rows } = await this.#options.db.query<LogRow>(
      `SELECT position::text AS position, (extract(epoch FROM at) * 1000)::float8 AS at_ms,
              session_ids, user_id, organization_id
       FROM revocations WHERE at >= $1::timestamptz ORDER BY position`,
      [new Date(this.#readFrom).toISOString()],
    );
    for (const row of rows) {
      const revocation: Revocation | undefined = row.session_ids
        ? { kind: "sessions", sessionIds: row.session_ids }
        : row.user_id && row.organization_id
          ? { kind: "member", userId: row.user_id, organizationId: row.organization_id }
          : undefined;
      if (revocation) this.#apply(row.position, row.at_ms, revocation, announce);
    }
    this.#prune();
  }

  #apply(position: string, at: number, revocation: Revocation, announce: boolean): void {
    if (this.#seen.has(position)) return;
    this.#seen.set(position, at);
    this.#readFrom = Math.max(this.#readFrom, at - overlapMs);
    if (revocation.kind === "sessions") {
      for (const id of revocation.sessionIds) this.#revokedSessions.set(id, at);
    } else {
      const key = `${revocation.userId} ${revocation.organizationId}`;
      this.#memberChanges.set(key, Math.max(at, this.#memberChanges.get(key) ?? 0));
    }
    if (!announce) return;
    for (const listener of this.#listeners) {
      try {
        listener(revocation);
      } catch (error) {
        // One listener's failure must not keep the others from hearing of the revocation.
        this.#options.onListenerError(error);
      }
    }
  }

  /** A revocation older than one token lifetime concerns only tokens that have expired anyway. */
  #prune(): void {
    const horizon = this.#options.now() - this.#options.tokenTtlMs - overlapMs;
    for (const map of [this.#revokedSessions, this.#memberChanges]) {
      for (const [key, at] of map) if (at < horizon) map.delete(key);
    }
    for (const [position, at] of this.#seen) if (at < this.#readFrom - overlapMs) this.#seen.delete(position);
  }
}
