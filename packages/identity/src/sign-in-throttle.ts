import { createHash } from "node:crypto";
import { IdentityConfigError } from "./config-error";
import { TooManyAttempts } from "./errors";

/** A counter that lives a fixed window from its first increment. */
export interface AttemptCount {
  readonly count: number;
  /** Unix milliseconds: when the counter disappears. */
  readonly resetAt: number;
}

/**
 * Where attempt counters live: in this process's memory (MemoryAttemptCounters, the embedded shape)
 * or in Redis, shared by every process serving `/auth` (RedisAttemptCounters, the scale-out shape).
 * A store out of reach throws (ThrottleUnavailable): the password check is then not made.
 */
export interface AttemptCounters {
  /** Adds one to `key` and answers the new count; a counter that did not exist lives `windowMs`. */
  increment(key: string, windowMs: number): Promise<AttemptCount>;
  peek(key: string): Promise<AttemptCount | undefined>;
  delete(key: string): Promise<void>;
}

export class MemoryAttemptCounters implements AttemptCounters {
  readonly #counters = new Map<string, { count: number; resetAt: number }>();
  readonly #now: () => number;
  readonly #maxKeys: number;

  constructor(now: () => number = Date.now, maxKeys = 100_000) {
    this.#now = now;
    this.#maxKeys = maxKeys;
  }

  async increment(key: string, windowMs: number): Promise<AttemptCount> {
    const now = this.#now();
    let counter = this.#live(key, now);
    if (!counter) {
      this.#makeRoom(now);
      counter = { count: 0, resetAt: now + windowMs };
      this.#counters.set(key, counter);
    }
    counter.count += 1;
    return { ...counter };
  }

  async peek(key: string): Promise<AttemptCount | undefined> {
    const counter = this.#live(key, this.#now());
    return counter && { ...counter };
  }

  async delete(key: string): Promise<void> {
    this.#counters.delete(key);
  }

  #live(key: string, now: number) {
    const counter = this.#counters.get(key);
    if (counter && counter.resetAt <= now) {
      this.#counters.delete(key);
      return undefined;
    }
    return counter;
  }

  /** Bounded memory: drop expired counters, then the oldest, before adding one. */
  #makeRoom(now: number): void {
    if (this.#counters.size < this.#maxKeys) return;
    for (const [key, counter] of this.#counters) if (counter.resetAt <= now) this.#counters.delete(key);
    while (this.#counters.size >= this.#maxKeys) {
      const oldest = this.#counters.keys().next();
      if (oldest.done) break;
      this.#counters.delete(oldest.value);
    }
  }
}

export interface KeyLimits {
  /** Attempts, successful or not, per rolling minute window. */
  readonly attemptsPerMinute: number;
  /** Failures within `failureWindowSeconds` that lock the key out. */
  readonly failuresBeforeLockout: number;
  readonly failureWindowSeconds: number;
  readonly lockoutSeconds: number;
}

export interface SignInLimits {
  readonly perEmail: KeyLimits;
  readonly perAddress: KeyLimits;
}

/** See docs/identity.md: 5 wrong passwords lock an email for 15 minutes; an address gets 100. */
export const defaultSignInLimits: SignInLimits = {
  perEmail: { attemptsPerMinute: 30, failuresBeforeLockout: 5, failureWindowSeconds: 900, lockoutSeconds: 900 },
  perAddress: { attemptsPerMinute: 120, failuresBeforeLockout: 100, failureWindowSeconds: 900, lockoutSeconds: 900 },
};

export function validateSignInLimits(limits: SignInLimits): SignInLimits {
  for (const [scope, keyLimits] of Object.entries(limits) as [string, KeyLimits][]) {
    for (const [name, value] of Object.entries(keyLimits)) {
      if (!Number.isInteger(value) || value < 1) {
        throw new IdentityConfigError(`signInLimits.${scope}.${name} must be a positive whole number, got ${value}`);
      }
    }
  }
  return limits;
}

/** Who is trying: the email as typed (normalized) and the client's address when known. */
export interface SignInSubject {
  readonly email: string;
  readonly clientAddress?: string | undefined;
}

/**
 * Rate limit and lockout for password checks, per email and per client address. The email need
 * not exist: an unknown email is limited exactly like a known one, so the replies say nothing.
 */
export class SignInThrottle {
  readonly #counters: AttemptCounters;
  readonly #limits: SignInLimits;
  readonly #now: () => number;

  constructor(counters: AttemptCounters, limits: SignInLimits, now: () => number) {
    this.#counters = counters;
    this.#limits = validateSignInLimits(limits);
    this.#now = now;
  }

  /** Before a password check: throws TooManyAttempts while locked out or over the rate. */
  async admit(subject: SignInSubject): Promise<void> {
    const keys = this.#keysOf(subject);
    for (const { key } of keys) {
      const lock = await this.#counters.peek(`lock:${key}`);
      if (lock) throw new TooManyAttempts((lock.resetAt - this.#now()) / 1000);
    }
    for (const { key, limits } of keys) {
      const attempts = await this.#counters.increment(`rate:${key}`, 60_000);
      if (attempts.count > limits.attemptsPerMinute) throw new TooManyAttempts((attempts.resetAt - this.#now()) / 1000);
    }
  }

  async failed(subject: SignInSubject): Promise<void> {
    for (const { key, limits } of this.#keysOf(subject)) {
      const failures = await this.#counters.increment(`fail:${key}`, limits.failureWindowSeconds * 1000);
      if (failures.count >= limits.failuresBeforeLockout) {
        await this.#counters.increment(`lock:${key}`, limits.lockoutSeconds * 1000);
        await this.#counters.delete(`fail:${key}`);
      }
    }
  }

  /** A right password clears the email's failures; the address keeps its count. */
  async succeeded(subject: SignInSubject): Promise<void> {
    await this.#counters.delete(`fail:${emailKey(subject.email)}`);
  }

  #keysOf(subject: SignInSubject): { key: string; limits: KeyLimits }[] {
    const keys = [{ key: emailKey(subject.email), limits: this.#limits.perEmail }];
    if (subject.clientAddress) keys.push({ key: `address:${subject.clientAddress}`, limits: this.#limits.perAddress });
    return keys;
  }
}

/** Counters are keyed by a hash of the email, so no store of them holds an address book. */
function emailKey(email: string): string {
  return `email:${createHash("sha256").update(email).digest("base64url")}`;
}
