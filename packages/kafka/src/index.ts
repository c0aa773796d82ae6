export {
  createTopics,
  deleteTopics,
  kafkaReachable,
  openProducer,
  subscribe,
  type ConsumedRecord,
  type KafkaConnection,
  type KafkaProducer,
  type KafkaRecord,
  type KafkaSubscription,
  type TopicSpec,
} from "./kafka-client";
