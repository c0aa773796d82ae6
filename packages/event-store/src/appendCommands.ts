import type { JsonValue, Message } from "@bufbuild/protobuf";
import type { Queryable } from "@sluice/database";
import { ErrorCode, RpcError } from "@sluice/rpc";
import { CommandAlreadyHandled } from "./errors";
import type { WrappedDataKey } from "./personalData/dataKeys";
import type { AppendRequest, AppendResult, ExpectedVersion, RecordedEvent } from "./types";

/** The rule an append to a closed stream breaks (RpcError FAILED_PRECONDITION). */
export const streamClosedRule = "sluice.stream.closed";

/** What `append_commands` returns (schema.ts, migrations 008 to 010). int8 arrays come as text from pg, bigint from PGlite. */
interface AppendCommandsRow {
  readonly codes: readonly (string | null)[];
  readonly details: readonly (string | null)[];
  readonly versions: readonly (string | bigint | null)[];
  readonly positions: readonly (string | bigint)[] | null;
  readonly event_ids: readonly string[] | null;
  readonly transaction_id: bigint;
  readonly occurred_at: Date;
  /** Set when a new key's subject had one: then nothing was appended (migration 010). */
  readonly stored_keys: readonly WrappedDataKey[] | null;
}

/**
 * Each command's result, or the error it is refused with; or, when a key in `newKeys` was not
 * stored because its subject had one, nothing appended and every subject's stored key.
 */
export type AppendOutcome =
  { readonly results: (AppendResult | Error)[] } | { readonly existingKeys: readonly WrappedDataKey[] };

/** A stream of one command, as the statement takes it: in stream id order within the command. */
interface StreamEntry {
  readonly command: number;
  readonly append: AppendRequest["appends"][number];
}

/**
 * Appends the commands in one `append_commands` statement on `db`: each judged on its own and in
 * order, as if appended alone, and the new data subjects' keys their personal data is sealed
 * under stored with them. Returns each one's result, or the error it is refused with; a failure of
 * the statement as a whole (a lost race, say) rejects. The recorded events hold the messages of
 * `given`: the callers' own, where `requests` are the copies written (sealed).
 */
export async function appendCommands(
  db: Queryable,
  requests: readonly AppendRequest[],
  encode: (message: Message) => JsonValue,
  given: readonly AppendRequest[] = requests,
  newKeys: readonly WrappedDataKey[] = [],
): Promise<AppendOutcome> {
  // Streams in id order within a command, so a command's first refused stream is the same one
  // however its caller listed them; events stay in the order the command gave them.
  const entries: StreamEntry[] = [];
  const events: { entry: number; event: Message }[] = [];
  requests.forEach((request, index) => {
    const entryOf = new Map<string, number>();
    for (const append of [...request.appends].sort((a, b) => compareIds(a.streamId, b.streamId)))
      entryOf.set(append.streamId, entries.push({ command: index + 1, append }));
    for (const append of request.appends)
      for (const event of append.events) events.push({ entry: entryOf.get(append.streamId)!, event });
  });
  const { rows } = await db.query<AppendCommandsRow>(
    `select * from append_commands($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15, $16, $17)`,
    [
      requests.map((r) => r.organizationId),
      requests.map((r) => r.metadata.commandId),
      requests.map((r) => r.result.$typeName),
      JSON.stringify(requests.map((r) => encode(r.result))),
      JSON.stringify(requests.map((r) => r.metadata)),
      entries.map((e) => e.command),
      entries.map((e) => e.append.streamId),
      entries.map((e) => e.append.streamType),
      entries.map((e) => expectedVersionText(e.append.expectedVersion)),
      entries.map((e) => e.append.events.length),
      entries.map((e) => e.append.close === true),
      events.map((e) => e.entry),
      events.map((e) => e.event.$typeName),
      JSON.stringify(events.map((e) => encode(e.event))),
      newKeys.map((k) => k.organization_id),
      newKeys.map((k) => k.subject_id),
      newKeys.map((k) => k.wrapped_key),
    ],
    // Named: each connection parses and plans the call once, not on every append (decision 0014).
    { name: "append_commands" },
  );
  const row = rows[0];
  if (row?.stored_keys) return { existingKeys: row.stored_keys };
  if (!row || row.codes.length !== requests.length)
    throw new Error("append_commands returned a different number of outcomes");

  const versionsOf = requests.map(() => new Map<string, bigint>());
  entries.forEach(({ command, append }, n) => {
    const version = row.versions[n];
    if (version != null) versionsOf[command - 1]!.set(append.streamId, BigInt(version));
  });
  let eventIndex = 0;
  const results = given.map((request, index) => {
    const code = row.codes[index];
    if (code) return refusal(request, code, row.details[index] ?? "");
    const versions = versionsOf[index]!;
    const recorded: RecordedEvent[] = [];
    for (const append of request.appends) {
      const firstVersion = versions.get(append.streamId)! - BigInt(append.events.length) + 1n;
      append.events.forEach((data, n) => {
        recorded.push({
          eventId: row.event_ids![eventIndex]!,
          organizationId: request.organizationId,
          streamId: append.streamId,
          streamType: append.streamType,
          streamVersion: firstVersion + BigInt(n),
          globalPosition: BigInt(row.positions![eventIndex]!),
          transactionId: row.transaction_id,
          type: data.$typeName,
          data,
          metadata: request.metadata,
          occurredAt: row.occurred_at,
        });
        eventIndex += 1;
      });
    }
    return { versions, lastGlobalPosition: recorded.at(-1)?.globalPosition ?? 0n, events: recorded };
  });
  return { results };
}

/** Why `append_commands` refused a command, as the error its caller gets. */
function refusal(request: AppendRequest, code: string, detail: string): Error {
  const { organizationId } = request;
  const { commandId } = request.metadata;
  switch (code) {
    case "SLDUP":
      return new CommandAlreadyHandled(organizationId, commandId);
    case "SL409": {
      const conflict = JSON.parse(detail) as { streamId: string; expected: string; actual: string };
      return RpcError.conflict(conflict.streamId, conflict.expected, BigInt(conflict.actual));
    }
    case "SL403":
      return new RpcError(ErrorCode.ALREADY_EXISTS, `stream ${detail} belongs to someone else`);
    case "SLTYP": {
      const { streamId, recorded, requested } = JSON.parse(detail) as Record<string, string>;
      return new RpcError(ErrorCode.ALREADY_EXISTS, `${streamId} is a ${recorded}, not a ${requested}`);
    }
    case "SLCLS":
      return RpcError.ruleBroken(streamClosedRule, `stream ${detail} is closed: it takes no more events`);
    default:
      return new Error(`append_commands answered an unknown outcome ${code}`);
  }
}

/**
 * Ids in one fixed order (UTF-16 code units, whatever the locale): what is locked is locked in this
 * order by every writer, so two never wait on each other crosswise.
 */
export const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function expectedVersionText(expected: ExpectedVersion): string {
  return typeof expected === "bigint" ? expected.toString() : expected;
}
