import { randomBytes } from "node:crypto";
import type { Database } from "@sluice/database";
import { compareIds } from "../appendCommands";
import { decrypt, encrypt } from "./aesGcm";
import { PersonalDataIntegrityError } from "./errors";

/** A subject's data key, or "erased" once its data was shredded. */
export type DataKey = Buffer | "erased";

export interface DataSubjectRef {
  readonly organizationId: string;
  readonly subjectId: string;
}

export interface DataKeysOptions {
  /** Unwrapped keys kept in memory at most. */
  readonly cacheSize?: number;
  /**
   * How long a key stays cached. Another process erasing the subject is noticed by this one's
   * reads once its cached key expires; an erasure in this process is at once.
   */
  readonly cacheMs?: number;
}

/** A subject's key as data_subject_keys holds it: wrapped by the master key, in base64; null once erased. */
export interface WrappedDataKey {
  readonly organization_id: string;
  readonly subject_id: string;
  readonly wrapped_key: string | null;
}

/** The data keys of data subjects (table data_subject_keys), wrapped by the master key. */
export interface DataKeys {
  /**
   * Each subject's key by `subjectKey`, without a query: the key `existing` gives (the stored keys
   * an append sent back), else the cached one, else a new one, `proposed` for the append to store
   * in its own statement (`append_commands`), which refuses the batch, and sends back the stored
   * keys, when a subject has one already. Call `committed` once the append has committed: a key
   * proposed in a transaction that rolls back was never stored, so it is only cached then.
   */
  forWriting(
    subjects: readonly DataSubjectRef[],
    existing?: readonly WrappedDataKey[],
  ): { readonly keys: Map<string, DataKey>; readonly proposed: readonly WrappedDataKey[]; committed(): void };
  /** The subjects' keys by `subjectKey`; a subject that never had one is absent. One query at most. */
  forReading(subjects: readonly DataSubjectRef[]): Promise<Map<string, DataKey>>;
  /** Tells the cache the subject's key was destroyed (see `PersonalData.erase`). */
  erased(organizationId: string, subjectId: string): void;
}

export const subjectKey = (organizationId: string, subjectId: string): string => `${organizationId}\u0000${subjectId}`;

export function createDataKeys(db: Database, masterKey: Buffer, options: DataKeysOptions = {}): DataKeys {
  const cacheSize = options.cacheSize ?? 10_000;
  const cacheMs = options.cacheMs ?? 60_000;
  const cache = new Map<string, { key: DataKey; until: number }>();

  // The wrapped key is bound to its row: moved to another subject or organization it does not open.
  const boundTo = (organizationId: string, subjectId: string) => Buffer.from(subjectKey(organizationId, subjectId));

  function cached(key: string): DataKey | undefined {
    const entry = cache.get(key);
    if (!entry) return undefined;
    if (entry.key !== "erased" && entry.until < Date.now()) {
      cache.delete(key);
      return undefined;
    }
    cache.delete(key);
    cache.set(key, entry);
    return entry.key;
  }
  function remember(key: string, value: DataKey): void {
    cache.delete(key);
    // Erased is final: it never expires.
    cache.set(key, { key: value, until: value === "erased" ? Infinity : Date.now() + cacheMs });
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value!);
  }
  function unwrapped(row: WrappedDataKey): DataKey {
    if (row.wrapped_key === null) return "erased";
    const key = decrypt(
      masterKey,
      Buffer.from(row.wrapped_key, "base64"),
      boundTo(row.organization_id, row.subject_id),
    );
    if (!key) {
      throw new PersonalDataIntegrityError(
        `the data key of subject ${row.subject_id} in organization ${row.organization_id} does not open under the master key`,
      );
    }
    return key;
  }

  return {
    forWriting(subjects, existing = []) {
      const keys = new Map<string, DataKey>();
      const learned = new Map<string, DataKey>();
      for (const row of existing) learned.set(subjectKey(row.organization_id, row.subject_id), unwrapped(row));
      const proposed: WrappedDataKey[] = [];
      for (const { organizationId, subjectId } of subjects) {
        const key = subjectKey(organizationId, subjectId);
        if (keys.has(key)) continue;
        const known = learned.get(key) ?? cached(key);
        if (known) {
          keys.set(key, known);
          continue;
        }
        const made = randomBytes(32);
        keys.set(key, made);
        learned.set(key, made);
        proposed.push({
          organization_id: organizationId,
          subject_id: subjectId,
          wrapped_key: encrypt(masterKey, made, boundTo(organizationId, subjectId)).toString("base64"),
        });
      }
      // Stored in this order: two batches proposing keys for the same subjects wait on each other
      // in the same order, never crosswise.
      proposed.sort((x, y) =>
        compareIds(subjectKey(x.organization_id, x.subject_id), subjectKey(y.organization_id, y.subject_id)),
      );
      return {
        keys,
        proposed,
        committed: () => {
          for (const [key, value] of learned) remember(key, value);
        },
      };
    },

    async forReading(subjects) {
      const found = new Map<string, DataKey>();
      const missing = new Map<string, DataSubjectRef>();
      for (const subject of subjects) {
        const key = subjectKey(subject.organizationId, subject.subjectId);
        const hit = cached(key);
        if (hit) found.set(key, hit);
        else missing.set(key, subject);
      }
      if (missing.size === 0) return found;
      const { rows } = await db.query<WrappedDataKey>(
        `select k.organization_id, k.subject_id, encode(k.wrapped_key, 'base64') as wrapped_key
         from data_subject_keys k
         join jsonb_to_recordset($1::jsonb) as w(organization_id text, subject_id text)
           on k.organization_id = w.organization_id and k.subject_id = w.subject_id`,
        [
          JSON.stringify(
            [...missing.values()].map((s) => ({ organization_id: s.organizationId, subject_id: s.subjectId })),
          ),
        ],
      );
      for (const row of rows) {
        const key = subjectKey(row.organization_id, row.subject_id);
        const value = unwrapped(row);
        remember(key, value);
        found.set(key, value);
      }
      return found;
    },

    erased(organizationId, subjectId) {
      remember(subjectKey(organizationId, subjectId), "erased");
    },
  };
}
