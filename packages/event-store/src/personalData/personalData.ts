import type { Message, Registry } from "@bufbuild/protobuf";
import type { Database } from "@sluice/database";
import { RpcError } from "@sluice/rpc";
import type { PreparedBatch } from "../groupCommit";
import type { AppendRequest, RecordedEvent } from "../types";
import {
  createDataKeys,
  subjectKey,
  type DataKey,
  type DataKeysOptions,
  type DataSubjectRef,
  type WrappedDataKey,
} from "./dataKeys";
import { PersonalDataIntegrityError } from "./errors";
import { loadMasterKey } from "./masterKey";
import { checkPersonalDataDeclarations, personalFieldsOf, type PersonalFields } from "./personalFields";
import { isSealed, openText, sealText } from "./sealedText";

/** The rule a write of an erased subject's personal data breaks. */
export const subjectErasedRule = "sluice.personal_data.subject_erased";

/**
 * Crypto-shredding (decision 0009): the fields a contract marks `(sluice.v1.personal_data)` are
 * stored sealed under a key of the message's data subject, and read back opened; once the subject
 * is erased they read empty, with the message's erasure marker set.
 */
export interface PersonalData {
  /**
   * A batch of appends as they are stored: personal fields sealed (copies; the requests given are
   * not changed) under the subjects' cached keys, or under new keys the batch's append stores
   * (`newKeys`), or under `existingKeys`, the stored keys an append sent back when a subject had
   * one already (group commit's `prepare`). No query. A request holding personal data of an erased
   * subject is answered FAILED_PRECONDITION (`subjectErasedRule`) instead.
   */
  sealBatch(requests: readonly AppendRequest[], existingKeys?: readonly WrappedDataKey[]): PreparedBatch;
  /** Recorded events with their personal fields opened (erased ones empty and marked), in one key lookup. */
  openEvents(events: readonly RecordedEvent[]): Promise<RecordedEvent[]>;
  /** One stored message (a command result, say), opened. */
  open<M extends Message>(organizationId: string, message: M): Promise<M>;
  /**
   * Destroys the subject's data key for good, so everything sealed under it reads empty, and drops
   * the organization's aggregate snapshots, which may hold the subject's data opened. Idempotent.
   */
  erase(organizationId: string, subjectId: string): Promise<void>;
}

export interface PersonalDataOptions extends DataKeysOptions {
  readonly registry: Registry;
  /** From the environment in the scale-out shape; without it, the database's own (embedded). */
  readonly masterKey?: Uint8Array | undefined;
}

type Fields = Record<string, unknown>;

/** Checks the contracts' declarations and the master key, then serves personal data over `db`. */
export async function createPersonalData(db: Database, options: PersonalDataOptions): Promise<PersonalData> {
  const { registry } = options;
  checkPersonalDataDeclarations(registry);
  const keys = createDataKeys(db, await loadMasterKey(db, options.masterKey), options);

  const planOf = (message: Message): PersonalFields | undefined => {
    const schema = registry.getMessage(message.$typeName);
    return schema && personalFieldsOf(schema);
  };
  const subjectOf = (plan: PersonalFields, message: Message) =>
    (message as unknown as Fields)[plan.subject.localName] as string;
  const hasPersonalData = (plan: PersonalFields, message: Message) =>
    plan.personal.some((field) => (message as unknown as Fields)[field.localName] !== "");

  /** `message` opened with its subject's key; `where` names it in an integrity error. */
  function opened<M extends Message>(plan: PersonalFields, message: M, key: DataKey | undefined, where: string): M {
    const copy = { ...message } as unknown as Fields;
    for (const field of plan.personal) {
      const value = copy[field.localName] as string;
      if (key === "erased") copy[field.localName] = "";
      else if (isSealed(value)) {
        const text = key && openText(key, value);
        if (text === undefined) {
          throw new PersonalDataIntegrityError(`${where}: ${field.name} does not open under its data subject's key`);
        }
        copy[field.localName] = text;
      }
      // Anything else was stored before personal data was sealed, and reads as it is.
    }
    if (plan.erasedMarker) copy[plan.erasedMarker.localName] = key === "erased";
    return copy as unknown as M;
  }

  async function openMany<T>(
    items: readonly T[],
    organizationOf: (item: T) => string,
    messageOf: (item: T) => Message,
    rebuild: (item: T, message: Message) => T,
    where: (item: T) => string,
  ): Promise<T[]> {
    const refs: DataSubjectRef[] = [];
    for (const item of items) {
      const message = messageOf(item);
      const plan = planOf(message);
      const subjectId = plan && subjectOf(plan, message);
      if (subjectId) refs.push({ organizationId: organizationOf(item), subjectId });
    }
    if (refs.length === 0) return [...items];
    const found = await keys.forReading(refs);
    return items.map((item) => {
      const message = messageOf(item);
      const plan = planOf(message);
      if (!plan) return item;
      const key = found.get(subjectKey(organizationOf(item), subjectOf(plan, message)));
      return rebuild(item, opened(plan, message, key, where(item)));
    });
  }

  /** The subjects whose personal data the messages hold. */
  function subjectsOf(organizationId: string, messages: readonly Message[]): DataSubjectRef[] {
    const subjects: DataSubjectRef[] = [];
    for (const message of messages) {
      const plan = planOf(message);
      if (!plan || !hasPersonalData(plan, message)) continue;
      const subjectId = subjectOf(plan, message);
      if (!subjectId) throw new Error(`${message.$typeName} holds personal data but names no data subject`);
      subjects.push({ organizationId, subjectId });
    }
    return subjects;
  }

  /** The messages with their personal fields sealed under the keys found. */
  function seal<M extends Message>(organizationId: string, messages: readonly M[], found: Map<string, DataKey>): M[] {
    return messages.map((message) => {
      const plan = planOf(message);
      if (!plan) return message;
      const claimsErasure = plan.erasedMarker && (message as unknown as Fields)[plan.erasedMarker.localName] === true;
      if (!claimsErasure && !hasPersonalData(plan, message)) return message;
      const copy = { ...message } as unknown as Fields;
      // The marker is the store's to set on read; a writer cannot claim an erasure.
      if (plan.erasedMarker) copy[plan.erasedMarker.localName] = false;
      if (hasPersonalData(plan, message)) {
        const subjectId = subjectOf(plan, message);
        const key = found.get(subjectKey(organizationId, subjectId));
        if (key === "erased" || key === undefined) {
          throw RpcError.ruleBroken(
            subjectErasedRule,
            `The personal data of ${subjectId} was erased: it cannot be recorded again.`,
          );
        }
        for (const field of plan.personal) {
          const value = copy[field.localName] as string;
          if (value !== "") copy[field.localName] = sealText(key, value);
        }
      }
      return copy as unknown as M;
    });
  }

  /** The data subjects of a batch's requests; a request that names none where it must is refused when sealed. */
  const subjectsOfBatch = (requests: readonly AppendRequest[]): DataSubjectRef[] =>
    requests.flatMap((request) => {
      try {
        return subjectsOf(request.organizationId, messagesOf(request));
      } catch {
        return [];
      }
    });

  const messagesOf = (request: AppendRequest): Message[] => [
    request.result,
    ...request.appends.flatMap((append) => append.events),
  ];

  /** The request with its result and events sealed, or the request itself when nothing is personal. */
  function sealRequest(request: AppendRequest, found: Map<string, DataKey>): AppendRequest {
    const messages = messagesOf(request);
    const sealed = seal(request.organizationId, messages, found);
    if (sealed.every((message, index) => message === messages[index])) return request;
    let next = 1;
    return {
      ...request,
      result: sealed[0]!,
      appends: request.appends.map((append) => ({
        ...append,
        events: append.events.map(() => sealed[next++]!),
      })),
    };
  }

  return {
    sealBatch(requests, existingKeys) {
      const subjects = subjectsOfBatch(requests);
      if (subjects.length === 0) return { stored: requests, newKeys: [], committed: () => {} };
      const { keys: found, proposed, committed } = keys.forWriting(subjects, existingKeys);
      const stored = requests.map((request) => {
        try {
          return sealRequest(request, found);
        } catch (error) {
          return error instanceof Error ? error : new Error(String(error));
        }
      });
      return { stored, newKeys: proposed, committed };
    },

    openEvents: (events) =>
      openMany(
        events,
        (event) => event.organizationId,
        (event) => event.data,
        (event, data) => ({ ...event, data }),
        (event) => `event ${event.eventId} (${event.streamId} v${event.streamVersion})`,
      ),

    async open(organizationId, message) {
      const [result] = await openMany(
        [message],
        () => organizationId,
        (m) => m,
        (_, m) => m as typeof message,
        (m) => `stored ${m.$typeName}`,
      );
      return result!;
    },

    async erase(organizationId, subjectId) {
      await db.transaction(async (tx) => {
        await tx.query(
          `insert into data_subject_keys (organization_id, subject_id, wrapped_key, erased_at)
           values ($1, $2, null, now())
           on conflict (organization_id, subject_id) do update
             set wrapped_key = null, erased_at = coalesce(data_subject_keys.erased_at, now())`,
          [organizationId, subjectId],
        );
        // Snapshots are a cache: dropping them loses nothing, and states folded again read erased.
        await tx.query("delete from snapshots where organization_id = $1", [organizationId]);
      });
      keys.erased(organizationId, subjectId);
    },
  };
}
