import { hash, verify, type Algorithm } from "@node-rs/argon2";
import { IdentityConfigError } from "./config-error";

// Algorithm.Argon2id: the package declares Algorithm as a const enum, which isolated modules cannot read.
const argon2id = 2 as Algorithm;

/** New passwords (sign-up, a new invitee, a change) need this many characters at least. */
export const minimumPasswordLength = 8;

/** argon2id cost parameters. See docs/decisions/0002-password-hashing.md for the choice. */
export interface HashCost {
  /** KiB of memory per hash. */
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

/** The production cost: 64 MiB, 3 passes, 1 lane (RFC 9106's memory-constrained choice). */
export const productionHashCost: HashCost = { memoryCost: 65536, timeCost: 3, parallelism: 1 };

/** Tests only: cheap enough to hash many passwords on a shared 2-core machine. */
export const lowHashCost: HashCost = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

/** Hashes and checks passwords with argon2id; the parameters travel inside each PHC string. */
export class PasswordHasher {
  readonly #cost: HashCost;
  readonly #dummyHash: Promise<string>;

  constructor(cost: HashCost = productionHashCost) {
    if (!Number.isInteger(cost.memoryCost) || cost.memoryCost < 8 * cost.parallelism) {
      throw new IdentityConfigError(
        `argon2 memoryCost must be an integer of at least 8 × parallelism KiB, got ${cost.memoryCost}`,
      );
    }
    if (!Number.isInteger(cost.timeCost) || cost.timeCost < 1) {
      throw new IdentityConfigError(`argon2 timeCost must be a positive integer, got ${cost.timeCost}`);
    }
    if (!Number.isInteger(cost.parallelism) || cost.parallelism < 1) {
      throw new IdentityConfigError(`argon2 parallelism must be a positive integer, got ${cost.parallelism}`);
    }
    this.#cost = cost;
    // Made up front, so the first sign-in for an unknown email costs no more than any other.
    this.#dummyHash = this.hash("not a password anyone has");
    this.#dummyHash.catch(() => {});
  }

  // NFC first: the same password typed on two keyboards may arrive as different code points.
  hash(password: string): Promise<string> {
    return hash(password.normalize("NFC"), { algorithm: argon2id, ...this.#cost });
  }

  /** False for a wrong password and for a stored hash that cannot be parsed. */
  async verify(storedHash: string, password: string): Promise<boolean> {
    try {
      return await verify(storedHash, password.normalize("NFC"));
    } catch {
      return false;
    }
  }

  /**
   * Spends the same work as a real check, for an email nobody has: a sign-in for an unknown
   * email must not answer faster than one with a wrong password.
   */
  async verifyAgainstDummy(password: string): Promise<false> {
    await this.verify(await this.#dummyHash, password);
    return false;
  }
}
