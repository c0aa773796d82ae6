// The event store: append with expected versions in one round trip, command idempotency, the global
// log read safely, consumers with checkpoints, and the command handler every domain uses.
export type {
  AppendRequest,
  ArchiveReport,
  AppendResult,
  EventMetadata,
  EventStore,
  ExpectedVersion,
  LogPosition,
  RecordedEvent,
  StreamAppend,
  Snapshot,
  StreamState,
} from "./types";
export {
  createEventStore,
  inlineProjectionMarker,
  startOfLog,
  type EventStoreOptions,
  type Upcaster,
} from "./eventStore";
export { CommandAlreadyHandled } from "./errors";
export { streamClosedRule } from "./appendCommands";
export { startArchiving, type ArchivingOptions } from "./archiving/startArchiving";
export { PersonalDataConfigError, PersonalDataIntegrityError } from "./personalData/errors";
export { parseMasterKey } from "./personalData/masterKey";
export { subjectErasedRule, type PersonalDataOptions } from "./personalData/personalData";
export { eventStoreMigrations } from "./schema";
export type { Decider, SnapshotPolicy } from "./commandHandling/decider";
export { aggregateStream, type AggregateState } from "./commandHandling/aggregateStream";
export { createAggregateCache, type AggregateCache } from "./commandHandling/aggregateCache";
export {
  handleCommand,
  type CommandAppend,
  type CommandContext,
  type CommandOutcome,
  type HandleCommandOptions,
  type LoadStream,
} from "./commandHandling/handleCommand";
export { startConsumer, type Consumer, type ConsumerOptions } from "./consumers/startConsumer";
export {
  consumerChannel,
  followConsumer,
  type FollowConsumerOptions,
  type FollowedConsumer,
} from "./consumers/followConsumer";
export { combineProjections, projectionCheckpointName, startProjection, type Projection } from "./consumers/projection";
export { advanceCheckpoint, compareLogPositions, loadCheckpoint } from "./consumers/checkpoint";
export { tailLog, type LogTail } from "./consumers/logTail";
export { findProjection, rebuildProjection, type RebuildOptions, type RebuildResult } from "./consumers/rebuild";
export { RebuildConflictError, UnknownProjectionError } from "./consumers/rebuildErrors";
export type { RebuildProgress } from "./consumers/rebuildProgress";
