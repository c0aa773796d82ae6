// The buses between two threads of one process: the embedded shape's main thread and its write side.
export { ThreadCommandBus, type ThreadCommandBusOptions } from "./thread-command-bus";
export { serveThreadCommands, type ThreadCommandServer } from "./thread-command-server";
export { ThreadEventBus } from "./thread-event-bus";
