import type { KafkaConnection } from "@sluice/kafka";

/**
 * Where the Kafka buses of one deployment find their topics. Each bounded context has an events
 * topic and a commands topic ("dispatch.events", "dispatch.commands"); each gateway process has
 * its own replies topic.
 */
export interface KafkaBusOptions {
  readonly connection: KafkaConnection;
  /** The bounded contexts this process sends to or hears from: ["dispatch"]. */
  readonly contexts: readonly string[];
  /** Put before every topic and consumer group name: keeps environments (and tests) apart. */
  readonly topicPrefix?: string;
  /** Partitions of a context's topics when this process creates them; 12 unless told. */
  readonly partitions?: number;
}

export const defaultPartitions = 12;

/** The context of a stream type: "dispatch.order" is Dispatch's. */
export function contextOfStreamType(streamType: string): string {
  const dot = streamType.indexOf(".");
  if (dot <= 0)
    throw new Error(`stream type ${JSON.stringify(streamType)} names no bounded context ("<context>.<aggregate>")`);
  return streamType.slice(0, dot);
}

/** The context of a method: "dispatch.v1.DispatchCommandService/CreateOrder" is Dispatch's. */
export function contextOfMethod(method: string): string {
  const dot = method.indexOf(".");
  if (dot <= 0 || !method.includes("/")) throw new Error(`method ${JSON.stringify(method)} names no bounded context`);
  return method.slice(0, dot);
}

export const eventsTopic = (options: KafkaBusOptions, context: string): string =>
  `${options.topicPrefix ?? ""}${context}.events`;

export const commandsTopic = (options: KafkaBusOptions, context: string): string =>
  `${options.topicPrefix ?? ""}${context}.commands`;

export const repliesTopic = (options: KafkaBusOptions, gatewayId: string): string =>
  `${options.topicPrefix ?? ""}sluice.replies.${gatewayId}`;

/** The gateway whose replies topic `topic` is, or undefined for any other topic. */
export function gatewayOfRepliesTopic(options: KafkaBusOptions, topic: string): string | undefined {
  const prefix = repliesTopic(options, "");
  return topic.startsWith(prefix) && topic.length > prefix.length ? topic.slice(prefix.length) : undefined;
}

export const groupName = (options: KafkaBusOptions, group: string): string => `${options.topicPrefix ?? ""}${group}`;

/** The consumer group in which a gateway reads its replies topic: one member while it runs. */
export const repliesGroup = (options: KafkaBusOptions, gatewayId: string): string =>
  groupName(options, `sluice.gateway.${gatewayId}`);

/** Throws unless the context is one this process was configured for (its topics exist). */
export function knownContext(options: KafkaBusOptions, context: string): string {
  if (!options.contexts.includes(context)) {
    throw new Error(`bounded context ${context} is not among this bus's contexts (${options.contexts.join(", ")})`);
  }
  return context;
}
