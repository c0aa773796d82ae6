/**
 * A lease: a name that one holder at a time has, for as long as it lives. Work that must run in
 * one process per deployment (the outbox relay, the projector) runs while its process holds the
 * lease and stops when it loses it (`startElection` keeps trying and runs the work).
 *
 * On a PostgreSQL server a lease is a session-level advisory lock held on a connection of its own,
 * not a pooled one: the lock lives as long as that session, so a holder that dies (kill -9
 * included) or whose connection drops gives it up at once. On PGlite, one process by nature, it
 * is a name held in memory.
 *
 * A lease saves duplicated work; it does not make work safe on its own. A holder that loses its
 * lease may still be finishing a batch when the next one starts, so what leased work writes must
 * be guarded too (a consumer's checkpoint compare-and-set is).
 */
export interface Lease {
  readonly name: string;
  /**
   * Aborts when the lease is lost without `release()`: its connection failed, stopped answering,
   * or the database was closed. The holder must stop its work at once: another may take the lease.
   */
  readonly lost: AbortSignal;
  /** Gives the lease up; another may take it at once. Safe to call twice, and after `lost`. */
  release(): Promise<void>;
}

export interface LeaseOptions {
  /**
   * How often the holder makes sure its session still answers (PostgreSQL). 1,000 ms unless told.
   * A check unanswered for `lostAfterMs` loses the lease: a connection that went silent (the
   * network, not a closed socket) could be one the server has already dropped.
   */
  readonly checkEveryMs?: number;
  /** 5,000 ms unless told; see `checkEveryMs`. */
  readonly lostAfterMs?: number;
}

export const defaultLeaseCheckEveryMs = 1_000;
export const defaultLeaseLostAfterMs = 5_000;
