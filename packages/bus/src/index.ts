export type { CommandBus, CommandEnvelope } from "./command-bus";
export { InProcessCommandBus } from "./in-process-command-bus";
