import type { JsonValue, Message } from "@bufbuild/protobuf";
import type { Database } from "@sluice/database";
import { ErrorCode, RpcError } from "@sluice/rpc";
import { CommandAlreadyHandled } from "./errors";
import type { AppendRequest, AppendResult, ExpectedVersion } from "./types";

/** One command as `append_batch` takes it (see schema.ts). */
interface BatchCommand {
  readonly organizationId: string;
  readonly commandId: string;
  readonly resultType: string;
  readonly result: JsonValue;
  readonly metadata: AppendRequest["metadata"];
  readonly streams: readonly { streamId: string; streamType: string; expected: string; eventCount: number }[];
  readonly events: readonly { streamId: string; type: string; data: JsonValue }[];
}

type BatchOutcome =
  | { readonly versions: Record<string, string>; readonly lastGlobalPosition: string }
  | { readonly error: { readonly code: string; readonly detail: string } };

interface Pending {
  readonly command: BatchCommand;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

export interface GroupCommitOptions {
  /** Batches in flight at once. */
  readonly concurrency: number;
  /** Commands per batch at most. */
  readonly maxBatch: number;
  readonly encode: (message: Message) => JsonValue;
  /** Called after each batch commits. */
  readonly appended: () => void;
}

/**
 * SQLSTATEs of a batch that lost a race with another writer on a PostgreSQL server: a stream or
 * command id created concurrently (unique_violation), or two batches locking streams crosswise
 * (deadlock_detected). Run again, a command then sees the winner's rows and gets its exact outcome.
 */
const raceCodes = new Set(["23505", "40P01"]);

/**
 * Group commit: appends go to the database as batches, one `append_batch` statement each.
 * No timer: an append finding a free slot goes at once, alone; appends arriving while the slots
 * are busy wait and go together as the next batch. So an idle store adds no latency, and a busy
 * one pays one statement and one commit for many commands.
 */
export class GroupCommit {
  readonly #db: Database;
  readonly #options: GroupCommitOptions;
  readonly #queue: Pending[] = [];
  #inFlight = 0;

  constructor(db: Database, options: GroupCommitOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1)
      throw new RangeError(`appendConcurrency must be a positive integer, got ${options.concurrency}`);
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1)
      throw new RangeError(`maxAppendBatch must be a positive integer, got ${options.maxBatch}`);
    this.#db = db;
    this.#options = options;
  }

  append(request: AppendRequest): Promise<AppendResult> {
    let command: BatchCommand;
    try {
      command = this.#batchCommand(request);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.#queue.push({ command, resolve, reject });
      this.#drain();
    });
  }

  #drain(): void {
    while (this.#inFlight < this.#options.concurrency && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#options.maxBatch);
      this.#inFlight += 1;
      void this.#run(batch).finally(() => {
        this.#inFlight -= 1;
        this.#drain();
      });
    }
  }

  async #run(batch: readonly Pending[], raceRetries = 2): Promise<void> {
    let outcomes: readonly BatchOutcome[];
    try {
      const { rows } = await this.#db.query<{ outcomes: BatchOutcome[] }>(
        "select append_batch($1::jsonb) as outcomes",
        [JSON.stringify(batch.map((pending) => pending.command))],
      );
      outcomes = rows[0]?.outcomes ?? [];
      if (outcomes.length !== batch.length) throw new Error("append_batch returned a different number of outcomes");
    } catch (error) {
      // A batch that failed as a whole runs again one command at a time, so whatever made it fail
      // (a lost race, or one command the database refused outright) is that command's alone.
      if (batch.length > 1) {
        for (const pending of batch) await this.#run([pending], raceRetries);
      } else if (raceRetries > 0 && raceCodes.has(databaseError(error).code ?? "")) {
        await this.#run(batch, raceRetries - 1);
      } else {
        batch[0]?.reject(error);
      }
      return;
    }
    this.#options.appended();
    outcomes.forEach((outcome, index) => settle(batch[index]!, outcome));
  }

  #batchCommand(request: AppendRequest): BatchCommand {
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
    const { encode } = this.#options;
    return {
      organizationId,
      commandId: metadata.commandId,
      resultType: result.$typeName,
      result: encode(result),
      metadata,
      streams,
      events: appends.flatMap((append) =>
        append.events.map((event) => ({ streamId: append.streamId, type: event.$typeName, data: encode(event) })),
      ),
    };
  }
}

function settle(pending: Pending, outcome: BatchOutcome): void {
  if ("versions" in outcome) {
    pending.resolve({
      versions: new Map(Object.entries(outcome.versions).map(([id, v]) => [id, BigInt(v)])),
      lastGlobalPosition: BigInt(outcome.lastGlobalPosition),
    });
    return;
  }
  const { code, detail } = outcome.error;
  const { organizationId, commandId } = pending.command;
  switch (code) {
    case "SLDUP":
      return pending.reject(new CommandAlreadyHandled(organizationId, commandId));
    case "SL409": {
      const conflict = JSON.parse(detail) as { streamId: string; expected: string; actual: string };
      return pending.reject(RpcError.conflict(conflict.streamId, conflict.expected, BigInt(conflict.actual)));
    }
    case "SL403":
      return pending.reject(new RpcError(ErrorCode.ALREADY_EXISTS, `stream ${detail} belongs to someone else`));
    case "SLTYP": {
      const { streamId, recorded, requested } = JSON.parse(detail) as Record<string, string>;
      return pending.reject(new RpcError(ErrorCode.ALREADY_EXISTS, `${streamId} is a ${recorded}, not a ${requested}`));
    }
    default:
      return pending.reject(new Error(`append_batch answered an unknown outcome ${code}`));
  }
}

function expectedVersionText(expected: ExpectedVersion): string {
  return typeof expected === "bigint" ? expected.toString() : expected;
}

/** The error's SQLSTATE, as both pg and PGlite report it. */
function databaseError(error: unknown): { code?: string } {
  return typeof error === "object" && error !== null ? (error as { code?: string }) : {};
}
