// For kafka-client.test.ts only: a process holding one static member of a group, to be killed -9.
// Tells its parent "handled" once it has handled a record, so the parent knows it holds the partition.
import { consumeBatches } from "./kafka-client";
import { kafkaTestConnection } from "./testing";

const [groupId, topic, instanceId, sessionTimeoutMs] = process.argv.slice(2);
await consumeBatches(
  { ...kafkaTestConnection, sessionTimeoutMs: Number(sessionTimeoutMs) },
  {
    groupId: groupId!,
    topics: [topic!],
    from: "earliest",
    instanceId,
    handle: async () => void process.send?.("handled"),
  },
);
