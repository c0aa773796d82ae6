import { createCipheriv, createDecipheriv, randomFillSync } from "node:crypto";

const ivBytes = 12;
const tagBytes = 16;

// IVs are drawn from a pool filled 1,024 at a time: one call for random bytes costs about as much
// as the encryption of a short field itself.
const pool = Buffer.alloc(ivBytes * 1024);
let used = pool.length;
function freshIv(): Buffer {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const iv = Buffer.from(pool.subarray(used, used + ivBytes));
  used += ivBytes;
  return iv;
}

/** AES-256-GCM: a fresh random IV, then the ciphertext and its tag, in one buffer. */
export function encrypt(key: Uint8Array, plaintext: Uint8Array, associatedData?: Uint8Array): Buffer {
  const iv = freshIv();
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  if (associatedData) cipher.setAAD(associatedData);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/** The plaintext of `encrypt`'s output, or undefined when it does not authenticate under `key`. */
export function decrypt(key: Uint8Array, sealed: Uint8Array, associatedData?: Uint8Array): Buffer | undefined {
  if (sealed.length < ivBytes + tagBytes) return undefined;
  const iv = sealed.subarray(0, ivBytes);
  const tag = sealed.subarray(sealed.length - tagBytes);
  const decipher = createDecipheriv("aes-256-gcm", key, iv);
  decipher.setAuthTag(tag);
  if (associatedData) decipher.setAAD(associatedData);
  try {
    return Buffer.concat([decipher.update(sealed.subarray(ivBytes, sealed.length - tagBytes)), decipher.final()]);
  } catch {
    return undefined;
  }
}
