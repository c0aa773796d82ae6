import { randomUUID } from "node:crypto";
import type { Message } from "@bufbuild/protobuf";
import { aggregateIdOf, findMethod } from "@sluice/contracts";
import {
  consumeBatches,
  deleteTopics,
  ensureTopics,
  openProducer,
  type BatchConsumer,
  type KafkaProducer,
} from "@sluice/kafka";
import { ErrorCode, RpcError } from "@sluice/rpc";
import type { CommandBus, CommandEnvelope } from "../command-bus";
import { encodeCommand } from "../records/command-record";
import { PendingCalls, unavailable } from "../records/pending-calls";
import {
  commandsTopic,
  contextOfMethod,
  defaultPartitions,
  knownContext,
  repliesGroup,
  repliesTopic,
  type KafkaBusOptions,
} from "./topics";

export interface KafkaCommandBusOptions extends KafkaBusOptions {
  /** Names this gateway's replies topic: unique among running gateways. A fresh id unless told. */
  readonly gatewayId?: string;
  /** How long a command waits for its reply before it fails as UNAVAILABLE (retriable); 10 s unless told. */
  readonly replyTimeoutMs?: number;
}

const encoder = new TextEncoder();

/**
 * The source gateway's command bus in the scale-out shape. A command goes to its context's
 * commands topic keyed by the aggregate it targets (the request field declared
 * `(sluice.v1.aggregate_id)`), so one aggregate's commands reach the domain service in the order
 * sent; the reply comes back on this gateway's own replies topic. A command whose reply does not
 * come in time fails as UNAVAILABLE, retriable: the caller retries with its idempotency key, and a
 * command that did run answers the retry with its stored result.
 */
export class KafkaCommandBus implements CommandBus {
  readonly #options: KafkaCommandBusOptions;
  readonly #replyTopic: string;
  readonly #producer: KafkaProducer;
  #replies: BatchConsumer | undefined;
  readonly #calls: PendingCalls;
  #closed = false;

  private constructor(options: KafkaCommandBusOptions, replyTopic: string) {
    this.#options = options;
    this.#replyTopic = replyTopic;
    this.#producer = openProducer(options.connection);
    this.#calls = new PendingCalls(replyTopic);
  }

  /** Creates the topics it needs when missing, and starts reading its replies. */
  static async open(options: KafkaCommandBusOptions): Promise<KafkaCommandBus> {
    const gatewayId = options.gatewayId ?? randomUUID();
    const replyTopic = repliesTopic(options, gatewayId);
    const partitions = options.partitions ?? defaultPartitions;
    await ensureTopics(options.connection, [
      ...options.contexts.map((context) => ({ name: commandsTopic(options, context), partitions })),
      // Only this gateway reads it, and only what is in flight matters: an hour's records at most.
      { name: replyTopic, partitions: 1, configs: { "retention.ms": "3600000" } },
    ]);
    const bus = new KafkaCommandBus(options, replyTopic);
    bus.#replies = await consumeBatches(options.connection, {
      groupId: repliesGroup(options, gatewayId),
      // A gateway started again under its id (after a crash) hears its replies at once, not after
      // the dead process's Kafka session has timed out.
      instanceId: gatewayId,
      topics: [replyTopic],
      from: "earliest",
      handle: async (records) => {
        for (const record of records) bus.#calls.settle(record.value);
      },
    });
    return bus;
  }

  async send(envelope: CommandEnvelope, signal: AbortSignal): Promise<Message> {
    if (this.#closed) throw unavailable("command bus is closed");
    const method = findMethod(envelope.method);
    if (!method) throw new RpcError(ErrorCode.UNKNOWN_METHOD, `${envelope.method} is not a method of this server`);
    const topic = commandsTopic(this.#options, knownContext(this.#options, contextOfMethod(envelope.method)));
    const key = aggregateIdOf(method.input, envelope.request) ?? envelope.commandId;
    const callId = randomUUID();
    const timeoutMs = this.#options.replyTimeoutMs ?? 10_000;
    const value = encodeCommand(envelope, method.input, {
      replyTopic: this.#replyTopic,
      callId,
      deadline: Date.now() + timeoutMs,
    });
    return this.#calls.wait({ callId, method: envelope.method, output: method.output }, timeoutMs, signal, () =>
      this.#producer.send([{ topic, key: encoder.encode(key), value }]).then(
        () => undefined,
        (error: unknown) => {
          console.error(`command bus: ${envelope.method} could not be put on ${topic}`, error);
          throw unavailable(`${envelope.method}: the command bus did not take the command`);
        },
      ),
    );
  }

  /** Fails what is still waiting (UNAVAILABLE, retriable), stops reading replies and deletes this gateway's replies topic. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#calls.failAll(unavailable("command bus closed"));
    await this.#producer.close();
    await this.#replies?.close();
    await deleteTopics(this.#options.connection, [this.#replyTopic]).catch((error: unknown) =>
      console.error(`command bus: could not delete ${this.#replyTopic}`, error),
    );
  }
}
