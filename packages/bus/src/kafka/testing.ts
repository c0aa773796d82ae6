// For this folder's tests only: a fresh set of topic names per test (the rest is in ../testing).
import { randomBytes } from "node:crypto";
import { deleteTopics } from "@sluice/kafka";
import { kafkaTestConnection } from "@sluice/kafka/testing";
import { commandsTopic, eventsTopic, type KafkaBusOptions } from "./topics";

/** Options naming topics and groups no other test uses; `cleanUp` deletes the topics after. */
export function freshBusOptions(partitions = 4): KafkaBusOptions & { cleanUp(): Promise<void> } {
  const options = {
    connection: kafkaTestConnection,
    contexts: ["dispatch"],
    topicPrefix: `test-${randomBytes(5).toString("hex")}.`,
    partitions,
  };
  return {
    ...options,
    cleanUp: () =>
      deleteTopics(kafkaTestConnection, [eventsTopic(options, "dispatch"), commandsTopic(options, "dispatch")]).catch(
        () => undefined,
      ),
  };
}
