import { brokerContract } from "./broker-contract";
import { MemoryBroker } from "./memory-broker";

// Every edge of the embedded shape is in this process: both "edges" are the one broker.
brokerContract("MemoryBroker", async ({ historySize }) => {
  const broker = new MemoryBroker({ historySize });
  return { publisher: broker, edge: broker, close: () => broker.close() };
});
