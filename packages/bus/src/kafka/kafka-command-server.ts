import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { consumeBatches, ensureTopics, openProducer, type ConsumedRecord, type KafkaRecord } from "@sluice/kafka";
import { ErrorCode, RpcError, toRpcError, type Router } from "@sluice/rpc";
import { deadlineOf, decodeCommand, encodeReply, sessionOf } from "./command-record";
import { commandsTopic, defaultPartitions, groupName, type KafkaBusOptions } from "./topics";

export interface KafkaCommandServerOptions extends KafkaBusOptions {
  /** The consumer group of the domain service's instances; "<context>.domain-service" unless told. */
  readonly group?: string;
}

export interface KafkaCommandServer {
  /** Finishes and answers the batch in hand, then leaves the group. */
  close(): Promise<void>;
}

const utf8 = new TextDecoder();

/**
 * The domain service's end of the Kafka command bus: reads its contexts' commands topics in a
 * consumer group (instances split the partitions), runs each command through the router's
 * `invoke` (policy and validation checked again: the topic is trusted no more than any wire), and
 * produces the reply, response or RpcError, to the topic the command names. Commands for one
 * aggregate (one key) run one after another in offset order; different aggregates run at once,
 * so their appends share the event store's group commit. Offsets are committed once a batch's
 * replies are acknowledged: after a crash a command runs again, and its command id makes the
 * rerun answer with the stored result.
 */
export async function serveKafkaCommands(
  router: Router,
  options: KafkaCommandServerOptions,
): Promise<KafkaCommandServer> {
  const partitions = options.partitions ?? defaultPartitions;
  const topics = options.contexts.map((context) => commandsTopic(options, context));
  await ensureTopics(
    options.connection,
    topics.map((name) => ({ name, partitions })),
  );
  const producer = openProducer(options.connection);

  /** Runs one command; the reply to produce, or nothing for a record that cannot be answered. */
  async function answer(record: ConsumedRecord): Promise<KafkaRecord | undefined> {
    let command;
    try {
      command = decodeCommand(record.value);
    } catch (error) {
      console.error(`command service: skipped ${record.topic}/${record.partition}@${record.offset}`, error);
      return undefined;
    }
    const reply = (outcome: Parameters<typeof encodeReply>[1]): KafkaRecord => ({
      topic: command.replyTopic,
      key: record.key,
      value: encodeReply(command.callId, outcome),
    });
    const remainingMs = deadlineOf(command) - Date.now();
    // Its sender has answered the caller already (retriable); a retry runs it then.
    if (remainingMs <= 0) return undefined;
    const route = router.route(command.method);
    if (!route) return reply({ error: new RpcError(ErrorCode.UNKNOWN_METHOD, `${command.method} is not served here`) });
    let request;
    try {
      request = fromBinary(route.method.input, command.request);
    } catch {
      return reply({
        error: new RpcError(ErrorCode.MALFORMED, `the request does not decode as ${route.method.input.typeName}`),
      });
    }
    try {
      const response = await router.invoke(route, request, {
        session: sessionOf(command),
        commandId: command.commandId,
        correlationId: command.correlationId,
        traceparent: command.traceparent,
        signal: AbortSignal.timeout(remainingMs),
      });
      return reply({ response: toBinary(route.method.output, response) });
    } catch (error) {
      if (!(error instanceof RpcError)) console.error(`command service: ${command.method} failed`, error);
      return reply({ error: toRpcError(error) });
    }
  }

  async function handle(records: readonly ConsumedRecord[]): Promise<void> {
    const byAggregate = new Map<string, ConsumedRecord[]>();
    for (const record of records) {
      const key = `${record.topic}\u0000${utf8.decode(record.key)}`;
      const queue = byAggregate.get(key);
      if (queue) queue.push(record);
      else byAggregate.set(key, [record]);
    }
    // Each reply goes as soon as it is known (the producer batches what comes at once).
    const sent: Promise<void>[] = [];
    await Promise.all(
      [...byAggregate.values()].map(async (queue) => {
        for (const record of queue) {
          const reply = await answer(record);
          if (reply) sent.push(producer.send([reply]));
        }
      }),
    );
    await Promise.all(sent);
  }

  const consumer = await consumeBatches(options.connection, {
    groupId: groupName(options, options.group ?? `${options.contexts.join("+")}.domain-service`),
    topics,
    from: "earliest",
    handle,
  });
  return {
    async close() {
      await consumer.close();
      await producer.close();
    },
  };
}
