export { KafkaCommandBus, type KafkaCommandBusOptions } from "./kafka-command-bus";
export { serveKafkaCommands, type KafkaCommandServer, type KafkaCommandServerOptions } from "./kafka-command-server";
export { KafkaEventBus } from "./kafka-event-bus";
export { MalformedRecordError } from "../records/malformed-record";
export { commandsTopic, eventsTopic, repliesTopic, type KafkaBusOptions } from "./topics";
export { startRepliesJanitor, type RepliesJanitor, type RepliesJanitorOptions } from "./replies-janitor";
