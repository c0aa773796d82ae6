import type { JsonValue, Message } from "@bufbuild/protobuf";
import type { Database, Queryable } from "@sluice/database";
import { appendCommands, type AppendOutcome } from "./appendCommands";
import type { WrappedDataKey } from "./personalData/dataKeys";
import type { AppendRequest, AppendResult, RecordedEvent } from "./types";

interface Pending {
  readonly request: AppendRequest;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

/** What `prepare` makes of a batch: each request as it is written, or why it cannot be. */
export interface PreparedBatch {
  readonly stored: readonly (AppendRequest | Error)[];
  /** Keys of new data subjects that what is written is sealed under, stored by the append itself. */
  readonly newKeys: readonly WrappedDataKey[];
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
   * Runs first: turns the callers' requests into what is written (personal data sealed, under new
   * keys the append stores in its own statement). A request it answers with an Error is refused
   * alone. Where a new key's subject turns out to have one, nothing is appended and it runs again
   * with the keys stored (`existingKeys`), which makes no new ones.
   */
  readonly prepare?: (requests: readonly AppendRequest[], existingKeys?: readonly WrappedDataKey[]) => PreparedBatch;
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
 * Group commit: appends go to the database as batches, one `append_commands` statement each.
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
   * Drains once the code that appended has run to its end, not now, so appends made together go
   * together. On PGlite, at the end of this turn of the event loop: a database in this process runs
   * a statement without yielding, so a batch sent sooner would leave every other command read in
   * the same turn to wait for the next one, and batches would hold one command each. On a server,
   * at the end of this task (a microtask): the statement goes out without waiting for the loop's
   * next phase, which a single append would otherwise pay for on every call (decision 0014).
   */
  #scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    const drain = () => {
      this.#drainScheduled = false;
      this.#drain();
    };
    if (this.#db.kind === "pglite") setImmediate(drain);
    else queueMicrotask(drain);
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
    const prepareBatch = (existingKeys?: readonly WrappedDataKey[]): PreparedBatch =>
      prepare ? prepare(requests, existingKeys) : { stored: requests, newKeys: [], committed: () => {} };
    const appendAll = async (db: Queryable) => {
      let prepared = prepareBatch();
      let appended = await appendWritable(db, requests, prepared, this.#options.encode);
      if ("existingKeys" in appended) {
        // Sealed under a new key for a subject that had one (another writer's, or one no longer
        // cached): sealed again under the keys stored, which proposes none, so this goes through.
        prepared = prepareBatch(appended.existingKeys);
        appended = await appendWritable(db, requests, prepared, this.#options.encode);
        if ("existingKeys" in appended) throw new Error("append_commands refused the batch's new data keys twice");
      }
      const { results } = appended;
      if (inTransaction) await inTransaction(db, recordedEvents(results));
      return { results, committed: prepared.committed };
    };
    try {
      // One statement, unless inline projections write in the same transaction.
      outcome = inTransaction ? await this.#db.transaction(appendAll) : await appendAll(this.#db);
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
}

/** Refused before the batch is sent: an append the store cannot judge. */
function checkRequest(request: AppendRequest): void {
  // Every command's result is kept under its id: an empty id would make unrelated commands retries of each other.
  if (!request.metadata.commandId) throw new Error("an append needs metadata.commandId");
  const streamIds = request.appends.map((append) => append.streamId);
  if (new Set(streamIds).size !== streamIds.length) throw new Error("an append request names a stream twice");
}

/**
 * The requests that could be written, with the batch's new keys, in one statement; the others keep
 * the error `prepare` gave them. The recorded events hold the callers' own messages, not the sealed
 * copies written.
 */
async function appendWritable(
  db: Queryable,
  requests: readonly AppendRequest[],
  { stored, newKeys }: PreparedBatch,
  encode: (message: Message) => JsonValue,
): Promise<AppendOutcome> {
  const writable = stored.flatMap((written, index) => (written instanceof Error ? [] : [{ written, index }]));
  // Nothing sealed under the new keys is written: they need not be stored.
  if (writable.length === 0) return { results: [...(stored as Error[])] };
  const appended = await appendCommands(
    db,
    writable.map(({ written }) => written),
    encode,
    writable.map(({ index }) => requests[index]!),
    newKeys,
  );
  if ("existingKeys" in appended) return appended;
  let next = 0;
  return { results: stored.map((written) => (written instanceof Error ? written : appended.results[next++]!)) };
}

const recordedEvents = (results: readonly (AppendResult | Error)[]): RecordedEvent[] =>
  results.flatMap((result) => (result instanceof Error ? [] : result.events));

/** The error's SQLSTATE, as both pg and PGlite report it. */
function databaseError(error: unknown): { code?: string } {
  return typeof error === "object" && error !== null ? (error as { code?: string }) : {};
}
