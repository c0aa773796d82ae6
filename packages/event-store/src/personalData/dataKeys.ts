import { randomBytes } from "node:crypto";
import type { Database, Queryable } from "@sluice/database";
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

/** The data keys of data subjects (table data_subject_keys), wrapped by the master key. */
export interface DataKeys {
  /** True when every subject's key is cached, so `forWriting` will not touch the database. */
  allCached(subjects: readonly DataSubjectRef[]): boolean;
  /**
   * Each subject's key by `subjectKey`, made and stored through `db` where it has none yet
   * (concurrent makers agree on one), in one statement at most. Run it in the transaction that
   * writes what the keys seal, and call `committed` once that has committed: a key made in a
   * transaction that rolls back was never stored, so it is only cached then.
   */
  forWriting(
    db: Queryable,
    subjects: readonly DataSubjectRef[],
  ): Promise<{ readonly keys: Map<string, DataKey>; committed(): void }>;
  /** The subjects' keys by `subjectKey`; a subject that never had one is absent. One query at most. */
  forReading(subjects: readonly DataSubjectRef[]): Promise<Map<string, DataKey>>;
  /** Tells the cache the subject's key was destroyed (see `PersonalData.erase`). */
  erased(organizationId: string, subjectId: string): void;
}

export const subjectKey = (organizationId: string, subjectId: string): string => `${organizationId}\u0000${subjectId}`;

interface KeyRow {
  organization_id: string;
  subject_id: string;
  wrapped_key: string | null;
}

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
  function unwrapped(row: KeyRow): DataKey {
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

  /** Each subject's key: the one stored, or a new one stored now (concurrent makers agree on one). */
  async function storeKeys(db: Queryable, subjects: readonly DataSubjectRef[]): Promise<Map<string, DataKey>> {
    const found = new Map<string, DataKey>();
    const missing = new Map(subjects.map((s) => [subjectKey(s.organizationId, s.subjectId), s]));
    // Twice at most: a key another process stored after this statement's snapshot began is
    // neither inserted (conflict) nor seen; the second run sees it.
    for (let attempt = 0; attempt < 2 && missing.size > 0; attempt++) {
      const asked = [...missing.values()];
      const { rows } = await db.query<KeyRow>(
        `with asked as (
           select * from unnest($1::text[], $2::text[], $3::text[]) as w(organization_id, subject_id, wrapped_key)
         ), inserted as (
           insert into data_subject_keys (organization_id, subject_id, wrapped_key)
           select organization_id, subject_id, decode(wrapped_key, 'base64') from asked
           on conflict do nothing
           returning organization_id, subject_id, wrapped_key
         )
         select organization_id, subject_id, encode(wrapped_key, 'base64') as wrapped_key from inserted
         union all
         select k.organization_id, k.subject_id, encode(k.wrapped_key, 'base64') as wrapped_key
         from data_subject_keys k join asked a using (organization_id, subject_id)`,
        [
          asked.map((s) => s.organizationId),
          asked.map((s) => s.subjectId),
          asked.map((s) =>
            encrypt(masterKey, randomBytes(32), boundTo(s.organizationId, s.subjectId)).toString("base64"),
          ),
        ],
      );
      for (const row of rows) {
        const key = subjectKey(row.organization_id, row.subject_id);
        found.set(key, unwrapped(row));
        missing.delete(key);
      }
    }
    if (missing.size > 0) throw new Error("a data subject's key could neither be stored nor read");
    return found;
  }

  return {
    allCached: (subjects) =>
      subjects.every((subject) => cached(subjectKey(subject.organizationId, subject.subjectId)) !== undefined),

    async forWriting(db, subjects) {
      const keys = new Map<string, DataKey>();
      const missing = new Map<string, DataSubjectRef>();
      for (const subject of subjects) {
        const key = subjectKey(subject.organizationId, subject.subjectId);
        const hit = cached(key);
        if (hit) keys.set(key, hit);
        else missing.set(key, subject);
      }
      const made = missing.size > 0 ? await storeKeys(db, [...missing.values()]) : new Map<string, DataKey>();
      for (const [key, value] of made) keys.set(key, value);
      return {
        keys,
        committed: () => {
          for (const [key, value] of made) remember(key, value);
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
      const { rows } = await db.query<KeyRow>(
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
