import type { JsonValue, Message } from "@bufbuild/protobuf";
import type { Database, Queryable } from "@sluice/database";
import { ErrorCode, RpcError } from "@sluice/rpc";
import { CommandAlreadyHandled } from "./errors";
import type { AppendRequest, AppendResult, ExpectedVersion, RecordedEvent } from "./types";

/** The rule an append to a closed stream breaks (RpcError FAILED_PRECONDITION). */
export const streamClosedRule = "sluice.stream.closed";

/** One command as `append_batch` takes it (see schema.ts). */
interface BatchCommand {
  readonly organizationId: string;
  readonly commandId: string;
  readonly resultType: string;
  readonly result: JsonValue;
  readonly metadata: AppendRequest["metadata"];
  readonly streams: readonly {
    streamId: string;
    streamType: string;
    expected: string;
    eventCount: number;
    close?: true;
  }[];
  readonly events: readonly { streamId: string; type: string; data: JsonValue }[];
}

type BatchOutcome =
  | {
      readonly versions: Record<string, string>;
      /** [global position, event id] of each event, in the order the command gave them. */
      readonly events: readonly (readonly [string, string])[];
      readonly transactionId: string;
      readonly occurredAt: string;
    }
  | { readonly error: { readonly code: string; readonly detail: string } };

interface Pending {
  readonly request: AppendRequest;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

/** What `prepare` makes of a batch: each request as it is written, or why it cannot be. */
export interface PreparedBatch {
  readonly stored: readonly (AppendRequest | Error)[];
  /** Told once the batch's transaction has committed. */
  committed(): void;
}

export interface GroupCommitOptions {
  /** Batches in flight at once. */
  readonly concurrency: number;
  /** Commands per batch at most. */
  readonly maxBatch: number;
  readonly encode: (message: Message) => JsonValue;
  /**
   * Runs first: turns the callers' requests into what is written (personal data sealed under keys
   * it may store). A request it answers with an Error is refused alone. When `writes` says it
   * stores something, the batch runs in one transaction, so that goes with the append or not at all.
   */
  readonly prepare?: {
    writes(requests: readonly AppendRequest[]): boolean;
    run(db: Queryable, requests: readonly AppendRequest[]): Promise<PreparedBatch>;
  };
  /**
   * Runs in the batch's transaction, after the append and before the commit, with the batch's
   * events in log order (inline projections). A throw rolls the batch back.
   */
  readonly inTransaction?: (tx: Queryable, events: readonly RecordedEvent[]) => Promise<void>;
  /** Called after each batch commits, with its events in log order, before any caller hears back. */
  readonly committed: (events: readonly RecordedEvent[]) => void;
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
  #drainScheduled = false;

  constructor(db: Database, options: GroupCommitOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1)
      throw new RangeError(`appendConcurrency must be a positive integer, got ${options.concurrency}`);
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1)
      throw new RangeError(`maxAppendBatch must be a positive integer, got ${options.maxBatch}`);
    this.#db = db;
    this.#options = options;
  }

  /** Appends with the next batch; the recorded events handed on hold the caller's own messages. */
  append(request: AppendRequest): Promise<AppendResult> {
    try {
      checkRequest(request);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      this.#scheduleDrain();
    });
  }

  /**
   * Drains at the end of this turn of the event loop, not now: a database in this process (PGlite)
   * runs a statement without yielding, so a batch sent at once would leave every other command
   * read in the same turn to wait for the next one, and batches would hold one command each.
   */
  #scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    setImmediate(() => {
      this.#drainScheduled = false;
      this.#drain();
    });
  }

  #drain(): void {
    while (this.#inFlight < this.#options.concurrency && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#options.maxBatch);
      this.#inFlight += 1;
      void this.#run(batch).finally(() => {
        this.#inFlight -= 1;
        this.#scheduleDrain();
      });
    }
  }

  async #run(batch: readonly Pending[], raceRetries = 2): Promise<void> {
    const { prepare, inTransaction } = this.#options;
    let outcome: { readonly results: readonly (AppendResult | Error)[]; committed(): void };
    const requests = batch.map((pending) => pending.request);
    const appendAll = async (db: Queryable) => {
      const prepared = prepare ? await prepare.run(db, requests) : { stored: requests, committed: () => {} };
      const results = await this.#appendBatch(db, batch, prepared.stored);
      if (inTransaction) await inTransaction(db, recordedEvents(results));
      return { results, committed: prepared.committed };
    };
    try {
      const transactional = inTransaction !== undefined || prepare?.writes(requests) === true;
      outcome = transactional ? await this.#db.transaction(appendAll) : await appendAll(this.#db);
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
    outcome.committed();
    this.#options.committed(recordedEvents(outcome.results));
    outcome.results.forEach((result, index) => {
      if (result instanceof Error) batch[index]!.reject(result);
      else batch[index]!.resolve(result);
    });
  }

  /** One `append_batch` statement for the requests that could be written: each one's result, or why not. */
  async #appendBatch(
    db: Queryable,
    batch: readonly Pending[],
    stored: readonly (AppendRequest | Error)[],
  ): Promise<(AppendResult | Error)[]> {
    const results: (AppendResult | Error)[] = [...stored].map((request) =>
      request instanceof Error ? request : new Error("not appended"),
    );
    const writable = stored.flatMap((request, index) => (request instanceof Error ? [] : [{ request, index }]));
    if (writable.length === 0) return results;
    const { rows } = await db.query<{ outcomes: BatchOutcome[] }>("select append_batch($1::jsonb) as outcomes", [
      JSON.stringify(writable.map(({ request }) => this.#batchCommand(request))),
    ]);
    const outcomes = rows[0]?.outcomes ?? [];
    if (outcomes.length !== writable.length) throw new Error("append_batch returned a different number of outcomes");
    outcomes.forEach((outcome, n) => {
      const { index } = writable[n]!;
      results[index] =
        "error" in outcome ? refusal(batch[index]!.request, outcome) : appendResult(batch[index]!.request, outcome);
    });
    return results;
  }

  #batchCommand(request: AppendRequest): BatchCommand {
    const { organizationId, metadata, appends, result } = request;
    const streams = appends.map((append) => ({
      streamId: append.streamId,
      streamType: append.streamType,
      expected: expectedVersionText(append.expectedVersion),
      eventCount: append.events.length,
      ...(append.close && { close: true as const }),
    }));
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

type BatchFailure = Extract<BatchOutcome, { error: unknown }>;

/** Refused before the batch is sent: an append the store cannot judge. */
function checkRequest(request: AppendRequest): void {
  // Every command's result is kept under its id: an empty id would make unrelated commands retries of each other.
  if (!request.metadata.commandId) throw new Error("an append needs metadata.commandId");
  const streamIds = request.appends.map((append) => append.streamId);
  if (new Set(streamIds).size !== streamIds.length) throw new Error("an append request names a stream twice");
}

const recordedEvents = (results: readonly (AppendResult | Error)[]): RecordedEvent[] =>
  results.flatMap((result) => (result instanceof Error ? [] : result.events));

/** The command's events as recorded: the messages it gave, where and when the database put them. */
function appendResult(request: AppendRequest, outcome: Exclude<BatchOutcome, BatchFailure>): AppendResult {
  const transactionId = BigInt(outcome.transactionId);
  const occurredAt = new Date(outcome.occurredAt);
  const versions = new Map(Object.entries(outcome.versions).map(([id, v]) => [id, BigInt(v)]));
  const events: RecordedEvent[] = [];
  for (const append of request.appends) {
    const firstVersion = versions.get(append.streamId)! - BigInt(append.events.length) + 1n;
    append.events.forEach((data, index) => {
      const [globalPosition, eventId] = outcome.events[events.length]!;
      events.push({
        eventId,
        organizationId: request.organizationId,
        streamId: append.streamId,
        streamType: append.streamType,
        streamVersion: firstVersion + BigInt(index),
        globalPosition: BigInt(globalPosition),
        transactionId,
        type: data.$typeName,
        data,
        metadata: request.metadata,
        occurredAt,
      });
    });
  }
  return { versions, lastGlobalPosition: events.at(-1)?.globalPosition ?? 0n, events };
}

/** Why `append_batch` refused a command, as the error its caller gets. */
function refusal(request: AppendRequest, failure: BatchFailure): Error {
  const { code, detail } = failure.error;
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
      return new Error(`append_batch answered an unknown outcome ${code}`);
  }
}

function expectedVersionText(expected: ExpectedVersion): string {
  return typeof expected === "bigint" ? expected.toString() : expected;
}

/** The error's SQLSTATE, as both pg and PGlite report it. */
function databaseError(error: unknown): { code?: string } {
  return typeof error === "object" && error !== null ? (error as { code?: string }) : {};
}
