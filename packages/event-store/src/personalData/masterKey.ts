import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Queryable } from "@sluice/database";
import { PersonalDataConfigError } from "./errors";

export const masterKeyBytes = 32;

/** What the key check is an HMAC of: any fixed text does, as long as it never changes. */
const checkLabel = "sluice personal data master key check v1";

const checkOf = (key: Uint8Array): Buffer => createHmac("sha256", key).update(checkLabel).digest();

/**
 * A master key as the environment gives it (SLUICE_PERSONAL_DATA_KEY): 32 random bytes in base64,
 * e.g. from `openssl rand -base64 32`. The message never repeats the value.
 */
export function parseMasterKey(base64: string): Buffer {
  const text = base64.trim();
  const key = Buffer.from(text, "base64");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || key.length !== masterKeyBytes) {
    throw new PersonalDataConfigError(
      `the personal data master key must be ${masterKeyBytes} bytes in base64 (openssl rand -base64 32)`,
    );
  }
  return key;
}

/**
 * The master key the data keys are wrapped with. Given one (from the environment, the scale-out
 * way), it must be the one the database was first used with. Given none (the embedded way), the
 * database's own is used, generated on first start and kept there, as identity keeps its
 * signing keys. Two processes starting at once agree on one.
 */
export async function loadMasterKey(db: Queryable, configured: Uint8Array | undefined): Promise<Buffer> {
  if (configured !== undefined && configured.length !== masterKeyBytes) {
    throw new PersonalDataConfigError(`the personal data master key must be ${masterKeyBytes} bytes`);
  }
  const candidate = configured ? Buffer.from(configured) : randomBytes(masterKeyBytes);
  await db.query(
    `insert into personal_data_master_key (key_check, generated_key)
     values (decode($1, 'base64'), decode($2, 'base64')) on conflict do nothing`,
    [checkOf(candidate).toString("base64"), configured ? null : candidate.toString("base64")],
  );
  const { rows } = await db.query<{ key_check: string; generated_key: string | null }>(
    `select encode(key_check, 'base64') as key_check, encode(generated_key, 'base64') as generated_key
     from personal_data_master_key`,
  );
  const row = rows[0];
  if (!row) throw new Error("personal_data_master_key has no row after an insert");
  const key = configured
    ? candidate
    : row.generated_key === null
      ? undefined
      : Buffer.from(row.generated_key, "base64");
  if (!key) {
    throw new PersonalDataConfigError(
      "this database's personal data is wrapped with a master key from the environment " +
        "(SLUICE_PERSONAL_DATA_KEY), which is not set",
    );
  }
  const expected = Buffer.from(row.key_check, "base64");
  const actual = checkOf(key);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw new PersonalDataConfigError(
      configured
        ? "the personal data master key (SLUICE_PERSONAL_DATA_KEY) is not the one this database's data keys " +
            "are wrapped with: no personal data could be read or written with it"
        : "this database's generated personal data master key fails its check: personal_data_master_key was altered",
    );
  }
  return key;
}
