import { randomBytes } from "node:crypto";
import type { Database } from "@sluice/database";
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
  /** Each subject's key, made and stored where it has none yet (concurrent makers agree on one). */
  forWriting(organizationId: string, subjectIds: readonly string[]): Promise<Map<string, DataKey>>;
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

  /**
   * Keys asked for in one turn of the event loop are made and stored in one statement: the
   * appends waiting on them then reach group commit together and still go as one batch.
   */
  let asked: Array<DataSubjectRef & { resolve(key: DataKey): void; reject(error: unknown): void }> = [];
  const keyToWrite = (subject: DataSubjectRef) =>
    new Promise<DataKey>((resolve, reject) => {
      if (asked.length === 0) setImmediate(() => void storeAsked());
      asked.push({ ...subject, resolve, reject });
    });

  async function storeAsked(): Promise<void> {
    const batch = asked;
    asked = [];
    try {
      const made = await storeKeys(batch);
      for (const request of batch) request.resolve(made.get(subjectKey(request.organizationId, request.subjectId))!);
    } catch (error) {
      for (const request of batch) request.reject(error);
    }
  }

  /** Each subject's key: the one stored, or a new one stored now (concurrent makers agree on one). */
  async function storeKeys(subjects: readonly DataSubjectRef[]): Promise<Map<string, DataKey>> {
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
        const value = unwrapped(row);
        remember(key, value);
        found.set(key, value);
        missing.delete(key);
      }
    }
    if (missing.size > 0) throw new Error("a data subject's key could neither be stored nor read");
    return found;
  }

  return {
    async forWriting(organizationId, subjectIds) {
      const found = new Map<string, DataKey>();
      const missing: Promise<void>[] = [];
      for (const subjectId of subjectIds) {
        const key = cached(subjectKey(organizationId, subjectId));
        if (key) found.set(subjectId, key);
        else missing.push(keyToWrite({ organizationId, subjectId }).then((made) => void found.set(subjectId, made)));
      }
      await Promise.all(missing);
      return found;
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
