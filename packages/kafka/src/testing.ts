// For tests only: the broker a Kafka suite runs against (scripts/kafka.sh starts it on this machine).
import { kafkaReachable, type KafkaConnection } from "./kafka-client";

export const kafkaTestBrokers = (process.env.SLUICE_TEST_KAFKA_BROKERS ?? "127.0.0.1:9092").split(",");

export const kafkaTestConnection: KafkaConnection = { brokers: kafkaTestBrokers, clientId: "sluice-test" };

/** A reason to skip a Kafka suite: only when the broker is unreachable and CI is not "true". */
export async function kafkaTestSkip(): Promise<string | false> {
  if (process.env.CI === "true") return false;
  return (await kafkaReachable(kafkaTestConnection))
    ? false
    : `Kafka unreachable at ${kafkaTestBrokers.join(",")} (bash scripts/kafka.sh starts it)`;
}
