import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, type JWK } from "jose";
import type { Database } from "@sluice/database";
import { IdentityConfigError } from "./config-error";

export type SigningAlgorithm = "EdDSA" | "ES256";

/** One asymmetric key pair access tokens are signed with. */
export interface SigningKey {
  readonly algorithm: SigningAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public key's JWK thumbprint, put in each token's header as `kid`. */
  readonly keyId: string;
  /** The public key as served at /.well-known/jwks.json. */
  readonly jwk: JWK;
  /** Unix milliseconds. */
  readonly createdAt: number;
  /** Unix milliseconds: when a newer key took over signing; it verifies for one token lifetime more. */
  readonly retiredAt: number | undefined;
}

/** The keys that sign and verify access tokens. */
export interface KeyRing {
  /** The key that signs now; rotates first when the current one is due. */
  signingKey(): Promise<SigningKey>;
  /** The key named by `kid` while tokens it signed may still be alive; undefined otherwise. */
  verificationKey(kid: string): SigningKey | undefined | Promise<SigningKey | undefined>;
  /** The public keys verifiers may need: the current one and those still covering live tokens. */
  publicKeys(): Promise<readonly SigningKey[]>;
}

/** A key from the environment (SLUICE_JWT_PRIVATE_KEY): it signs until the operator replaces it. */
export async function staticKeyRing(privateKeyPem: string, now: () => number): Promise<KeyRing> {
  const key = await keyFromPem(privateKeyPem, "the configured private key", now(), undefined);
  return {
    signingKey: async () => key,
    verificationKey: (kid) => (kid === key.keyId ? key : undefined),
    publicKeys: async () => [key],
  };
}

export interface DatabaseKeyRingOptions {
  readonly db: Database;
  readonly now: () => number;
  /** A key signs this long, then a new one takes over. */
  readonly rotateAfterMs: number;
  /** The longest an access token lives: a retired key verifies this long after retiring. */
  readonly tokenTtlMs: number;
}

/** Any constant works; every process that rotates takes the same one. */
const ROTATION_LOCK = 7_361_527_006;
/** An unknown kid reloads the keys from the database at most this often (another node may have rotated). */
const reloadIntervalMs = 1000;

interface KeyRow {
  id: string;
  private_key_pem: string;
  created_ms: number;
  retired_ms: number | null;
}

/**
 * Keys generated and kept in identity's database, shared by every process on it: the embedded
 * shape's own keys (docs/decisions/0006-signing-keys.md). Rotation takes an advisory lock, so
 * concurrent processes agree on one new key.
 */
export async function databaseKeyRing(options: DatabaseKeyRingOptions): Promise<KeyRing> {
  const { db, now, rotateAfterMs, tokenTtlMs } = options;
  let keys = new Map<string, SigningKey>();
  let current: SigningKey | undefined;
  let lastLoad = 0;
  let rotating: Promise<SigningKey> | undefined;

  const usable = (key: SigningKey) => key.retiredAt === undefined || key.retiredAt + tokenTtlMs > now();
  const due = (key: SigningKey) => key.createdAt + rotateAfterMs <= now();

  async function load(): Promise<void> {
    const { rows } = await db.query<KeyRow>(
      `SELECT id, private_key_pem, (extract(epoch FROM created_at) * 1000)::float8 AS created_ms,
              (extract(epoch FROM retired_at) * 1000)::float8 AS retired_ms
       FROM signing_keys ORDER BY created_at DESC`,
    );
    const loaded = new Map<string, SigningKey>();
    let newest: SigningKey | undefined;
    for (const row of rows) {
      const key = keys.get(row.id) ?? (await keyFromPem(row.private_key_pem, `signing key ${row.id}`, row.created_ms));
      const withRetirement = { ...key, retiredAt: row.retired_ms ?? undefined };
      loaded.set(row.id, withRetirement);
      if (withRetirement.retiredAt === undefined && newest === undefined) newest = withRetirement;
    }
    keys = loaded;
    current = newest;
    lastLoad = now();
  }

  async function rotate(): Promise<SigningKey> {
    await db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock($1)", [ROTATION_LOCK]);
      const { rows } = await tx.query<{ created_ms: number }>(
        `SELECT (extract(epoch FROM created_at) * 1000)::float8 AS created_ms
         FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1`,
      );
      const newest = rows[0];
      // Another process may have rotated while this one waited for the lock.
      if (newest && newest.created_ms + rotateAfterMs > now()) return;
      const at = now();
      const key = await keyFromPem(generateEd25519Pem(), "a generated key", at);
      const stamp = new Date(at).toISOString();
      await tx.query(`UPDATE signing_keys SET retired_at = $1::timestamptz WHERE retired_at IS NULL`, [stamp]);
      await tx.query(
        `INSERT INTO signing_keys (id, algorithm, private_key_pem, created_at) VALUES ($1, $2, $3, $4::timestamptz)`,
        [key.keyId, key.algorithm, pemOf(key.privateKey), stamp],
      );
      // Keys whose last token has expired verify nothing any more.
      await tx.query(`DELETE FROM signing_keys WHERE retired_at < $1::timestamptz`, [
        new Date(at - tokenTtlMs).toISOString(),
      ]);
    });
    await load();
    if (!current) throw new Error("signing key rotation left no current key");
    return current;
  }

  await load();
  if (!current || due(current)) await rotate();

  return {
    async signingKey() {
      if (current && !due(current)) return current;
      rotating ??= rotate().finally(() => {
        rotating = undefined;
      });
      return rotating;
    },
    verificationKey(kid) {
      const key = keys.get(kid);
      if (key) return usable(key) ? key : undefined;
      if (now() - lastLoad < reloadIntervalMs) return undefined;
      return load().then(() => {
        const loaded = keys.get(kid);
        return loaded && usable(loaded) ? loaded : undefined;
      });
    },
    async publicKeys() {
      return [...keys.values()].filter(usable);
    },
  };
}

function generateEd25519Pem(): string {
  return pemOf(generateKeyPairSync("ed25519").privateKey);
}

function pemOf(privateKey: KeyObject): string {
  return privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

async function keyFromPem(
  pem: string,
  origin: string,
  createdAt: number,
  retiredAt?: number | undefined,
): Promise<SigningKey> {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: "pem" });
  } catch {
    throw new IdentityConfigError(`${origin} is not a PEM private key (expected PKCS#8 Ed25519 or P-256)`);
  }
  const algorithm = algorithmOf(privateKey);
  if (!algorithm) {
    throw new IdentityConfigError(
      `${origin} is a ${privateKey.asymmetricKeyType ?? "symmetric"} key; access tokens need Ed25519 or P-256`,
    );
  }
  const publicKey = createPublicKey(privateKey);
  const publicJwk = await exportJWK(publicKey);
  const keyId = await calculateJwkThumbprint(publicJwk);
  const jwk: JWK = { ...publicJwk, kid: keyId, alg: algorithm, use: "sig" };
  return { algorithm, privateKey, publicKey, keyId, jwk, createdAt, retiredAt };
}

function algorithmOf(key: KeyObject): SigningAlgorithm | undefined {
  if (key.asymmetricKeyType === "ed25519") return "EdDSA";
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ES256";
  return undefined;
}
