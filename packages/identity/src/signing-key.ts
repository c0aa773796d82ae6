import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { calculateJwkThumbprint, exportJWK } from "jose";
import { IdentityConfigError } from "./config-error";

export type SigningAlgorithm = "EdDSA" | "ES256";

/** The asymmetric key pair access tokens are signed with. */
export interface SigningKey {
  readonly algorithm: SigningAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public key's JWK thumbprint, put in each token's header. */
  readonly keyId: string;
}

export interface SigningKeySource {
  /** A PKCS#8 PEM (Ed25519 or P-256), e.g. from SLUICE_JWT_PRIVATE_KEY. Takes precedence. */
  readonly privateKeyPem?: string | undefined;
  /** Without a PEM: the embedded shape keeps a generated key in `<dataDir>/keys/`. */
  readonly dataDir?: string | undefined;
}

const keyFileName = "access-token-signing.pem";

/**
 * The key from the PEM when one is given; otherwise the one kept under dataDir, generated on first
 * start; otherwise a fresh key held in memory only (tokens die with the process).
 */
export async function loadSigningKey(source: SigningKeySource): Promise<SigningKey> {
  if (source.privateKeyPem !== undefined) return fromPem(source.privateKeyPem, "the configured private key");
  if (source.dataDir === undefined) return fromPem(generatePem(), "a generated key");

  const dir = join(source.dataDir, "keys");
  const path = join(dir, keyFileName);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    await writeFile(path, generatePem(), { flag: "wx", mode: 0o600 });
  } catch (error) {
    // Already there from an earlier start: keep it, so issued tokens stay valid across restarts.
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return fromPem(await readFile(path, "utf8"), path);
}

function generatePem(): string {
  const { privateKey } = generateKeyPairSync("ed25519");
  return privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

async function fromPem(pem: string, origin: string): Promise<SigningKey> {
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
  const keyId = await calculateJwkThumbprint(await exportJWK(publicKey));
  return { algorithm, privateKey, publicKey, keyId };
}

function algorithmOf(key: KeyObject): SigningAlgorithm | undefined {
  if (key.asymmetricKeyType === "ed25519") return "EdDSA";
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ES256";
  return undefined;
}
