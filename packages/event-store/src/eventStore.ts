import { fromJson, toJson, type JsonValue, type Message, type Registry } from "@bufbuild/protobuf";
import { registry as contractsRegistry } from "@sluice/contracts";
import { migrate, type Database } from "@sluice/database";
import { archiveClosedStreams } from "./archiving/archiveClosedStreams";
import type { Projection } from "./consumers/projection";
import { GroupCommit } from "./groupCommit";
import { startLogSignal } from "./logSignal";
import { createPersonalData, type PersonalDataOptions } from "./personalData/personalData";
import { eventStoreMigrations } from "./schema";
import type { EventMetadata, EventStore, LogPosition, RecordedEvent, StreamState } from "./types";

export interface EventStoreOptions {
  /** Resolves event and result types for the JSON mapping; the contracts' registry by default. */
  readonly registry?: Registry;
  /**
   * How events stored in an older shape are read: each maps a stored type to the next one (see
   * `Upcaster`). Applied on every read, so history is never rewritten.
   */
  readonly upcasters?: readonly Upcaster[];
  /**
   * How many batches of appends may be in flight at once: 1 on PGlite, which runs one statement
   * at a time anyway; 4 on a PostgreSQL server. Appends that arrive meanwhile wait and go as the
   * next batch (group commit), so load makes batches larger rather than queues longer.
   */
  readonly appendConcurrency?: number;
  /**
   * The most commands in one batch: 80 on PGlite, where a command's share of a batch stops falling
   * there (`bench/src/event-store/pglite-batch-size.ts`: 0.078 ms at 80, 0.14 ms at 160, 0.095 ms
   * at 40; decision 0008); 200 on a server.
   */
  readonly maxAppendBatch?: number;
  /**
   * How long `waitForAppend` waits at most. On a PostgreSQL server other processes' appends wake it
   * at once (`logSignal.ts`), and the poll, 500 ms by default, catches what that missed (a
   * notification sent while the listening connection was cut); 5 s on PGlite, which no other
   * process can append to.
   */
  readonly pollIntervalMs?: number;
  /**
   * Read models kept in the append's own transaction: a command's reply means they show its
   * events. They cost every append their statements, so keep them few and small. An inline
   * projection sees only appends made while it is configured: one added to a store that has
   * events already is refused at start until it has been built (see `inlineProjectionMarker`).
   */
  readonly inlineProjections?: readonly Projection[];
  /**
   * Crypto-shredding of the fields contracts mark as personal data (decision 0009): the master key
   * from the environment in the scale-out shape; without one, the database's own (embedded).
   */
  readonly personalData?: Omit<PersonalDataOptions, "registry">;
}

/**
 * The `consumer_checkpoints` row saying an inline projection holds every event of the log: written
 * when it starts on an empty log, or by whatever built it from the log (a rebuild).
 */
export const inlineProjectionMarker = (projectionName: string): string => `inline:${projectionName}`;

/**
 * Reads events stored under a type that is no longer written. Event types are versioned the
 * Protobuf way, by name: a change that would misread old data is a new message
 * (`dispatch.v2.OrderCreated`), and an upcaster turns the stored JSON of the old type into the new
 * one's. Chains follow (v1 → v2 → v3). Additive changes (new fields) need none.
 */
export interface Upcaster {
  /** The type name as stored, e.g. "dispatch.v1.OrderCreated". */
  readonly from: string;
  /** The type name it becomes; must be in the store's registry unless another upcaster takes it on. */
  readonly to: string;
  /** The old shape's JSON (Protobuf JSON mapping) to the new shape's. Pure. */
  upcast(data: JsonValue): JsonValue;
}

/** The start of the global log: `readAll({ after: startOfLog })` reads everything. */
export const startOfLog: LogPosition = { transactionId: 0n, globalPosition: 0n };

interface EventRow {
  global_position: bigint;
  transaction_id: bigint;
  organization_id: string;
  stream_id: string;
  stream_type: string;
  stream_version: bigint;
  event_id: string;
  type: string;
  data: JsonValue;
  metadata: EventMetadata;
  occurred_at: Date;
}

const eventColumnNames = [
  "global_position",
  "transaction_id",
  "organization_id",
  "stream_id",
  "stream_type",
  "stream_version",
  "event_id",
  "type",
  "data",
  "metadata",
  "occurred_at",
] as const satisfies readonly (keyof EventRow)[];
const eventColumns = (table: string) => eventColumnNames.map((name) => `${table}.${name}`).join(", ");

type CommitListener = (events: readonly RecordedEvent[]) => void;
/**
 * Per database, not per store: every store over one database tells the same listeners, so that
 * on PGlite, which only this process can reach, they hear every commit of the log.
 */
const commitListenersByDatabase = new WeakMap<Database, Set<CommitListener>>();
function commitListenersOf(db: Database): Set<CommitListener> {
  let listeners = commitListenersByDatabase.get(db);
  if (!listeners) commitListenersByDatabase.set(db, (listeners = new Set()));
  return listeners;
}

/** Runs the event store's migrations, then returns the store over `db`. */
export async function createEventStore(db: Database, options: EventStoreOptions = {}): Promise<EventStore> {
  await migrate(db, eventStoreMigrations);
  const registry = options.registry ?? contractsRegistry;
  // Personal fields are sealed before events are encoded, and opened after they are decoded.
  const personalData = await createPersonalData(db, { ...options.personalData, registry });
  const pollIntervalMs = options.pollIntervalMs ?? (db.kind === "pglite" ? 5_000 : 500);
  const inline = options.inlineProjections ?? [];
  for (const projection of inline) await startInlineProjection(db, projection);
  const appendWaiters = new Set<() => void>();
  const wakeAppendWaiters = () => {
    for (const wake of appendWaiters) wake();
  };
  const commitListeners = commitListenersOf(db);
  // Only this process writes to PGlite; a server's log grows by other processes' appends too.
  const soleWriter = db.kind === "pglite";
  const logSignal = soleWriter ? undefined : await startLogSignal(db, wakeAppendWaiters);
  const appends = new GroupCommit(db, {
    concurrency: options.appendConcurrency ?? (db.kind === "pglite" ? 1 : 4),
    maxBatch: options.maxAppendBatch ?? (db.kind === "pglite" ? 80 : 200),
    encode: (message) => encode(message),
    // Personal data is sealed before the append; new subjects' keys are stored by the append itself.
    prepare: (requests, existingKeys) => personalData.sealBatch(requests, existingKeys),
    ...(inline.length > 0 && {
      inTransaction: async (tx, events) => {
        for (const projection of inline) await projection.handle(tx, events);
      },
    }),
    committed: (events) => {
      for (const listener of commitListeners) {
        try {
          listener(events);
        } catch (error) {
          console.error("event store: a commit listener failed", error);
        }
      }
      wakeAppendWaiters();
      logSignal?.appended();
    },
  });

  function schemaOf(typeName: string) {
    const schema = registry.getMessage(typeName);
    if (!schema) throw new Error(`message type ${typeName} is not in the event store's registry`);
    return schema;
  }
  const encode = (message: Message): JsonValue => toJson(schemaOf(message.$typeName), message, { registry });
  const decode = (typeName: string, json: JsonValue): Message => fromJson(schemaOf(typeName), json, { registry });

  const upcasters = new Map<string, Upcaster>();
  for (const upcaster of options.upcasters ?? []) {
    if (upcasters.has(upcaster.from)) throw new Error(`two upcasters read ${upcaster.from}`);
    upcasters.set(upcaster.from, upcaster);
  }
  /** The stored type and JSON, brought to the shape this code reads. */
  function current(type: string, data: JsonValue): { type: string; data: JsonValue } {
    for (let seen = 0, next = upcasters.get(type); next; next = upcasters.get(type)) {
      if (++seen > upcasters.size) throw new Error(`upcasters of ${type} go round in a circle`);
      ({ to: type } = next);
      data = next.upcast(data);
    }
    return { type, data };
  }

  function recorded(row: EventRow): RecordedEvent {
    const { type, data } = current(row.type, row.data);
    return {
      eventId: row.event_id,
      organizationId: row.organization_id,
      streamId: row.stream_id,
      streamType: row.stream_type,
      streamVersion: row.stream_version,
      globalPosition: row.global_position,
      transactionId: row.transaction_id,
      type,
      data: decode(type, data),
      metadata: row.metadata,
      occurredAt: row.occurred_at,
    };
  }

  return {
    soleWriter,

    onCommitted(listener) {
      commitListeners.add(listener);
      return () => commitListeners.delete(listener);
    },

    async readStream(organizationId, streamId, { fromVersion = 0n } = {}): Promise<StreamState> {
      // One statement, one snapshot: the version and the events agree, and an archiving that
      // commits meanwhile is seen whole or not at all (a stream's events are in one table or the other).
      const { rows } = await db.query<
        { version: bigint; closed: boolean } & (EventRow | { [K in keyof EventRow]: null })
      >(
        `select s.version, s.closed_at is not null as closed, ${eventColumns("e")}
         from event_streams s
         left join (
           select ${eventColumns("events")} from events where stream_id = $1 and stream_version > $3
           union all
           select ${eventColumns("archived_events")} from archived_events where stream_id = $1 and stream_version > $3
         ) e on e.stream_id = s.stream_id
         where s.stream_id = $1 and s.organization_id = $2
         order by e.stream_version`,
        [streamId, organizationId, fromVersion.toString()],
      );
      const version = rows[0]?.version ?? 0n;
      const events = rows.flatMap((row) => (row.global_position === null ? [] : [recorded(row as EventRow)]));
      return {
        version,
        events: await personalData.openEvents(events),
        ...(rows[0]?.closed && { closed: true as const }),
      };
    },

    append: (request) => appends.append(request),

    erasePersonalData: (organizationId, subjectId) => personalData.erase(organizationId, subjectId),

    archiveClosedStreams: (options) => archiveClosedStreams(db, options),

    async readSnapshot(organizationId, streamId) {
      const { rows } = await db.query<{ stream_version: bigint; snapshot_version: number; state: JsonValue }>(
        "select stream_version, snapshot_version, state from snapshots where stream_id = $1 and organization_id = $2",
        [streamId, organizationId],
      );
      const row = rows[0];
      return (
        row && {
          streamId,
          streamVersion: row.stream_version,
          snapshotVersion: row.snapshot_version,
          state: row.state,
        }
      );
    },

    async saveSnapshot(organizationId, snapshot) {
      // Only over an older one of the same organization: a stream id never changes hands.
      await db.query(
        `insert into snapshots (stream_id, organization_id, stream_version, snapshot_version, state)
         values ($1, $2, $3, $4, $5::jsonb)
         on conflict (stream_id) do update
           set stream_version = excluded.stream_version, snapshot_version = excluded.snapshot_version,
               state = excluded.state, taken_at = now()
           where snapshots.organization_id = excluded.organization_id
             and snapshots.stream_version < excluded.stream_version`,
        [
          snapshot.streamId,
          organizationId,
          snapshot.streamVersion.toString(),
          snapshot.snapshotVersion,
          JSON.stringify(snapshot.state),
        ],
      );
    },

    async commandResult(organizationId, commandId) {
      const { rows } = await db.query<{ result_type: string; result: JsonValue }>(
        "select result_type, result from command_results where organization_id = $1 and command_id = $2",
        [organizationId, commandId],
      );
      const row = rows[0];
      return row && personalData.open(organizationId, decode(row.result_type, row.result));
    },

    async readAll({ after, limit }) {
      if (!Number.isInteger(limit) || limit < 1)
        throw new RangeError(`readAll limit must be a positive integer, got ${limit}`);
      // The archive is part of the log (see archiveClosedStreams): both tables, in one statement.
      // Each side limited in its own index order, so a page reads `limit` rows of each at most
      // (Merge Append) rather than sorting the rest of the archive.
      const { rows } = await db.query<EventRow>(
        `select ${eventColumns("e")} from (
           (select ${eventColumns("events")} from events
            where (transaction_id, global_position) > ($1::text::xid8, $2::bigint)
              and transaction_id < pg_snapshot_xmin(pg_current_snapshot())
            order by transaction_id, global_position
            limit $3)
           union all
           (select ${eventColumns("archived_events")} from archived_events
            where (transaction_id, global_position) > ($1::text::xid8, $2::bigint)
              -- Archived events wait behind an open transaction too, as they did in the hot table.
              and transaction_id < pg_snapshot_xmin(pg_current_snapshot())
            order by transaction_id, global_position
            limit $3)
         ) e
         order by e.transaction_id, e.global_position
         limit $3`,
        [after.transactionId.toString(), after.globalPosition.toString(), limit],
      );
      return personalData.openEvents(rows.map(recorded));
    },

    waitForAppend(signal) {
      return new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        const done = () => {
          clearTimeout(timer);
          appendWaiters.delete(done);
          signal.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, pollIntervalMs);
        appendWaiters.add(done);
        signal.addEventListener("abort", done, { once: true });
      });
    },
  };
}

/** Creates the projection's tables; refuses one that would start on a log it has not seen. */
async function startInlineProjection(db: Database, projection: Projection): Promise<void> {
  await migrate(db, projection.migrations ?? []);
  const marker = inlineProjectionMarker(projection.name);
  await db.transaction(async (tx) => {
    const { rows } = await tx.query<{ built: boolean; empty: boolean }>(
      `select exists (select 1 from consumer_checkpoints where name = $1) as built,
              not exists (select 1 from events) and not exists (select 1 from archived_events) as empty`,
      [marker],
    );
    const { built, empty } = rows[0]!;
    if (built) return;
    if (!empty)
      throw new Error(
        `inline projection ${projection.name} is new to a log that has events: build it from the log first (rebuild)`,
      );
    await tx.query(
      "insert into consumer_checkpoints (name, transaction_id, global_position) values ($1, '0', 0) on conflict do nothing",
      [marker],
    );
  });
}
