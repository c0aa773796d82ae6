import { fromJson, toJson, type JsonValue, type Message, type Registry } from "@bufbuild/protobuf";
import { registry as contractsRegistry } from "@sluice/contracts";
import { migrate, type Database } from "@sluice/database";
import { ErrorCode, RpcError } from "@sluice/rpc";
import { CommandAlreadyHandled } from "./errors";
import { eventStoreMigrations } from "./schema";
import type {
  AppendRequest,
  AppendResult,
  EventMetadata,
  EventStore,
  ExpectedVersion,
  LogPosition,
  RecordedEvent,
  StreamState,
} from "./types";

export interface EventStoreOptions {
  /** Resolves event and result types for the JSON mapping; the contracts' registry by default. */
  readonly registry?: Registry;
  /**
   * How long `waitForAppend` waits at most, so appends by other processes are seen too. By default
   * 500 ms on a PostgreSQL server; 5 s on PGlite, which no other process can append to.
   */
  readonly pollIntervalMs?: number;
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

function expectedVersionText(expected: ExpectedVersion): string {
  return typeof expected === "bigint" ? expected.toString() : expected;
}

/** The error's SQLSTATE and detail, as both pg and PGlite report them. */
function databaseError(error: unknown): { code?: string; detail?: string } {
  return typeof error === "object" && error !== null ? (error as { code?: string; detail?: string }) : {};
}

/** Runs the event store's migrations, then returns the store over `db`. */
export async function createEventStore(db: Database, options: EventStoreOptions = {}): Promise<EventStore> {
  await migrate(db, eventStoreMigrations);
  const registry = options.registry ?? contractsRegistry;
  const pollIntervalMs = options.pollIntervalMs ?? (db.kind === "pglite" ? 5_000 : 500);
  const appendWaiters = new Set<() => void>();

  function schemaOf(typeName: string) {
    const schema = registry.getMessage(typeName);
    if (!schema) throw new Error(`message type ${typeName} is not in the event store's registry`);
    return schema;
  }
  const encode = (message: Message): JsonValue => toJson(schemaOf(message.$typeName), message, { registry });
  const decode = (typeName: string, json: JsonValue): Message => fromJson(schemaOf(typeName), json, { registry });

  function recorded(row: EventRow): RecordedEvent {
    return {
      eventId: row.event_id,
      organizationId: row.organization_id,
      streamId: row.stream_id,
      streamType: row.stream_type,
      streamVersion: row.stream_version,
      globalPosition: row.global_position,
      transactionId: row.transaction_id,
      type: row.type,
      data: decode(row.type, row.data),
      metadata: row.metadata,
      occurredAt: row.occurred_at,
    };
  }

  return {
    async readStream(organizationId, streamId, { fromVersion = 0n } = {}): Promise<StreamState> {
      // One statement, one snapshot: the version and the events agree.
      const { rows } = await db.query<{ version: bigint } & (EventRow | { [K in keyof EventRow]: null })>(
        `select s.version, ${eventColumns("e")}
         from event_streams s
         left join events e on e.stream_id = s.stream_id and e.stream_version > $3
         where s.stream_id = $1 and s.organization_id = $2
         order by e.stream_version`,
        [streamId, organizationId, fromVersion.toString()],
      );
      const version = rows[0]?.version ?? 0n;
      const events = rows.flatMap((row) => (row.global_position === null ? [] : [recorded(row as EventRow)]));
      return { version, events };
    },

    async append(request: AppendRequest): Promise<AppendResult> {
      const { organizationId, metadata, appends, result } = request;
      // Every command's result is kept under its id: an empty id would make unrelated commands retries of each other.
      if (!metadata.commandId) throw new Error("an append needs metadata.commandId");
      const streams = appends.map((append) => ({
        streamId: append.streamId,
        streamType: append.streamType,
        expected: expectedVersionText(append.expectedVersion),
        eventCount: append.events.length,
      }));
      if (new Set(streams.map((s) => s.streamId)).size !== streams.length) {
        throw new Error("an append request names a stream twice");
      }
      const events = appends.flatMap((append) =>
        append.events.map((event) => ({ streamId: append.streamId, type: event.$typeName, data: encode(event) })),
      );
      let row: { appended: { versions: Record<string, string>; lastGlobalPosition: string } } | undefined;
      try {
        ({
          rows: [row],
        } = await db.query<{ appended: { versions: Record<string, string>; lastGlobalPosition: string } }>(
          "select append_events($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb, $7::jsonb) as appended",
          [
            organizationId,
            metadata.commandId,
            result.$typeName,
            JSON.stringify(encode(result)),
            JSON.stringify(metadata),
            JSON.stringify(streams),
            JSON.stringify(events),
          ],
        ));
      } catch (error) {
        const { code, detail } = databaseError(error);
        if (code === "SLDUP") throw new CommandAlreadyHandled(organizationId, metadata.commandId);
        if (code === "SL409" && detail) {
          const conflict = JSON.parse(detail) as { streamId: string; expected: string; actual: string };
          throw RpcError.conflict(conflict.streamId, conflict.expected, BigInt(conflict.actual));
        }
        if (code === "SL403") throw new RpcError(ErrorCode.ALREADY_EXISTS, `stream ${detail} belongs to someone else`);
        if (code === "SLTYP" && detail) {
          const { streamId, recorded, requested } = JSON.parse(detail) as Record<string, string>;
          throw new RpcError(ErrorCode.ALREADY_EXISTS, `${streamId} is a ${recorded}, not a ${requested}`);
        }
        throw error;
      }
      if (!row) throw new Error("append_events returned no row");
      for (const wake of appendWaiters) wake();
      return {
        versions: new Map(Object.entries(row.appended.versions).map(([id, v]) => [id, BigInt(v)])),
        lastGlobalPosition: BigInt(row.appended.lastGlobalPosition),
      };
    },

    async commandResult(organizationId, commandId) {
      const { rows } = await db.query<{ result_type: string; result: JsonValue }>(
        "select result_type, result from command_results where organization_id = $1 and command_id = $2",
        [organizationId, commandId],
      );
      const row = rows[0];
      return row && decode(row.result_type, row.result);
    },

    async readAll({ after, limit }) {
      if (!Number.isInteger(limit) || limit < 1)
        throw new RangeError(`readAll limit must be a positive integer, got ${limit}`);
      const { rows } = await db.query<EventRow>(
        `select ${eventColumns("events")} from events
         where (transaction_id, global_position) > ($1::text::xid8, $2::bigint)
           and transaction_id < pg_snapshot_xmin(pg_current_snapshot())
         order by transaction_id, global_position
         limit $3`,
        [after.transactionId.toString(), after.globalPosition.toString(), limit],
      );
      return rows.map(recorded);
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
