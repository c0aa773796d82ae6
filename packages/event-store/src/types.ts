import type { JsonValue, Message } from "@bufbuild/protobuf";

/**
 * The version a stream must be at for an append to go through. A number is the exact version
 * (the count of events in the stream, 0 for an empty one).
 */
export type ExpectedVersion = bigint | "any" | "no_stream" | "stream_exists";

/** Who and what caused an event; stored with it, never taken from a client's request body. */
export interface EventMetadata {
  readonly userId: string;
  readonly commandId: string;
  readonly correlationId: string;
  readonly traceparent?: string | undefined;
}

export interface StreamAppend {
  readonly streamId: string;
  /** The aggregate kind: "dispatch.order", "dispatch.route", "dispatch.project". */
  readonly streamType: string;
  readonly expectedVersion: ExpectedVersion;
  /** Protobuf messages from the contracts; the message type name is the event type. */
  readonly events: readonly Message[];
  /**
   * Closes the stream once these events are in, in the same transaction: from then on any append
   * adding events to it is refused (RpcError FAILED_PRECONDITION, rule `sluice.stream.closed`),
   * and `archiveClosedStreams` may move it out of the hot table. Closing again is a no-op.
   */
  readonly close?: boolean;
}

/** One command's effect, appended atomically to one or more streams. */
export interface AppendRequest {
  readonly organizationId: string;
  readonly metadata: EventMetadata;
  readonly appends: readonly StreamAppend[];
  /** Stored with the command id: what a retry of the same command gets back. */
  readonly result: Message;
}

export interface AppendResult {
  /** The version each stream reached. */
  readonly versions: ReadonlyMap<string, bigint>;
  /** The highest global position written. */
  readonly lastGlobalPosition: bigint;
  /** The events as recorded, in the order given: what a reader of the log will read. */
  readonly events: readonly RecordedEvent[];
}

/**
 * A place in the global log. Readers see the log ordered by the appending transaction's id, then
 * by global position, and only up to the oldest transaction still open: an append that started
 * earlier but commits later can then never land behind a place a reader has already passed.
 */
export interface LogPosition {
  readonly transactionId: bigint;
  readonly globalPosition: bigint;
}

export interface RecordedEvent<E extends Message = Message> {
  readonly eventId: string;
  readonly organizationId: string;
  readonly streamId: string;
  readonly streamType: string;
  /** 1 for a stream's first event. */
  readonly streamVersion: bigint;
  /** Order in the whole log; readers never skip one that commits late. */
  readonly globalPosition: bigint;
  /** The appending transaction: with globalPosition, this event's LogPosition. */
  readonly transactionId: bigint;
  readonly type: string;
  readonly data: E;
  readonly metadata: EventMetadata;
  readonly occurredAt: Date;
}

export interface StreamState {
  /** 0 when the stream does not exist. */
  readonly version: bigint;
  readonly events: readonly RecordedEvent[];
  /** Set once an append closed the stream: it takes no more events. Absent while it is open. */
  readonly closed?: true;
}

/** What one `archiveClosedStreams` call moved. */
export interface ArchiveReport {
  readonly streams: number;
  readonly events: number;
}

/** An aggregate's state as stored at `streamVersion`, in the JSON its decider wrote it in. */
export interface Snapshot {
  readonly streamId: string;
  readonly streamVersion: bigint;
  /** The decider's `snapshot.version` when it was taken. */
  readonly snapshotVersion: number;
  readonly state: JsonValue;
}

export interface EventStore {
  /** A stream's events of one organization: another organization's stream reads as empty. */
  readStream(organizationId: string, streamId: string, options?: { fromVersion?: bigint }): Promise<StreamState>;
  /**
   * Appends in one round trip and one transaction. Throws RpcError CONFLICT (with a
   * VersionConflict detail) when a stream is not at its expected version.
   */
  append(request: AppendRequest): Promise<AppendResult>;
  /**
   * Crypto-shredding: destroys the data subject's key, so the personal fields of every event about
   * it read empty, with the event's erasure marker set (decision 0009). Idempotent; affects this
   * organization's subject only. Record the erasure in the log too, so projections forget.
   */
  erasePersonalData(organizationId: string, subjectId: string): Promise<void>;
  /**
   * Moves the events of up to `limit` closed streams (longest closed first) out of the hot table
   * into the archive, one transaction per call. Readers see no difference: `readStream` and
   * `readAll` read the archive too, and events keep their log positions. For a periodic job: call
   * until it reports 0 streams.
   */
  archiveClosedStreams(options: { limit: number }): Promise<ArchiveReport>;
  /** The organization's latest snapshot of the stream, if any. */
  readSnapshot(organizationId: string, streamId: string): Promise<Snapshot | undefined>;
  /** Keeps `snapshot` unless a later one of the stream is kept already. */
  saveSnapshot(organizationId: string, snapshot: Snapshot): Promise<void>;
  /** The result stored by an earlier command with this id in this organization, if any. */
  commandResult(organizationId: string, commandId: string): Promise<Message | undefined>;
  /**
   * Events after a place in the log (`startOfLog` for all), in log order, never past one whose
   * transaction is still open. The last event read is the next `after`.
   */
  readAll(options: { after: LogPosition; limit: number }): Promise<readonly RecordedEvent[]>;
  /**
   * Resolves when something may have been appended since the call: by this process, by another
   * (told through the database, on a server), or at the latest after the poll interval.
   */
  waitForAppend(signal: AbortSignal): Promise<void>;
  /**
   * Hears each batch appended through any store over this database object once it has committed,
   * before its callers hear back, with its events in log order. Appends by other processes are
   * not heard: only over a database no other process reaches (`soleWriter`) is that the whole log.
   * Returns the way to stop listening.
   */
  onCommitted(listener: (events: readonly RecordedEvent[]) => void): () => void;
  /** True when no other process can append to this store's database (PGlite, in this process). */
  readonly soleWriter: boolean;
}
