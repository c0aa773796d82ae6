// The event store: append with expected versions in one round trip, command idempotency, the global
// log read safely, consumers with checkpoints, and the command handler every domain uses.
export type {
  AppendRequest,
  AppendResult,
  EventMetadata,
  EventStore,
  ExpectedVersion,
  LogPosition,
  RecordedEvent,
  StreamAppend,
  StreamState,
} from "./types";
export { createEventStore, startOfLog, type EventStoreOptions } from "./eventStore";
export { CommandAlreadyHandled } from "./errors";
export { eventStoreMigrations } from "./schema";
