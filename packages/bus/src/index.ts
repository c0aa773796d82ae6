export type { CommandBus, CommandEnvelope } from "./command-bus";
export { InProcessCommandBus } from "./in-process-command-bus";
export type { EventBus, EventHandler } from "./event-bus";
export { InProcessEventBus } from "./in-process-event-bus";
export { StreamVersions } from "./stream-versions";
export { startOutbox, type Outbox, type OutboxOptions } from "./outbox";
