import { randomUUID } from "node:crypto";
import type { DescMessage, Message } from "@bufbuild/protobuf";
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
import { decodeReply, encodeCommand, replyOutcome } from "../records/command-record";
import {
  commandsTopic,
  contextOfMethod,
  defaultPartitions,
  groupName,
  knownContext,
  repliesTopic,
  type KafkaBusOptions,
} from "./topics";

export interface KafkaCommandBusOptions extends KafkaBusOptions {
  /** Names this gateway's replies topic: unique among running gateways. A fresh id unless told. */
  readonly gatewayId?: string;
  /** How long a command waits for its reply before it fails as UNAVAILABLE (retriable); 10 s unless told. */
  readonly replyTimeoutMs?: number;
}

interface PendingCall {
  readonly output: DescMessage;
  resolve(response: Message): void;
  reject(error: unknown): void;
}

const encoder = new TextEncoder();
const unavailable = (message: string) => new RpcError(ErrorCode.UNAVAILABLE, message, { retriable: true });

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
  readonly #pending = new Map<string, PendingCall>();
  #closed = false;

  private constructor(options: KafkaCommandBusOptions, replyTopic: string) {
    this.#options = options;
    this.#replyTopic = replyTopic;
    this.#producer = openProducer(options.connection);
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
      groupId: groupName(options, `sluice.gateway.${gatewayId}`),
      topics: [replyTopic],
      from: "earliest",
      handle: async (records) => {
        for (const record of records) bus.#settle(record.value);
      },
    });
    return bus;
  }

  async send(envelope: CommandEnvelope, signal: AbortSignal): Promise<Message> {
    if (this.#closed) throw unavailable("command bus is closed");
    const method = findMethod(envelope.method);
    if (!method) throw new RpcError(ErrorCode.UNKNOWN_METHOD, `${envelope.method} is not a method of this server`);
    if (signal.aborted) {
      throw new RpcError(ErrorCode.TIMEOUT, `${envelope.method}: the caller stopped waiting`, { retriable: true });
    }
    const topic = commandsTopic(this.#options, knownContext(this.#options, contextOfMethod(envelope.method)));
    const key = aggregateIdOf(method.input, envelope.request) ?? envelope.commandId;
    const callId = randomUUID();
    const timeoutMs = this.#options.replyTimeoutMs ?? 10_000;
    const value = encodeCommand(envelope, method.input, {
      replyTopic: this.#replyTopic,
      callId,
      deadline: Date.now() + timeoutMs,
    });

    const replied = new Promise<Message>((resolve, reject) => {
      this.#pending.set(callId, { output: method.output, resolve, reject });
    });
    // Settled while the send is still in flight (a timeout, an abort): awaited below, not unhandled.
    replied.catch(() => undefined);
    const timer = setTimeout(
      () => this.#fail(callId, unavailable(`${envelope.method}: no reply within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const abandon = () =>
      this.#fail(
        callId,
        signal.reason instanceof RpcError
          ? signal.reason
          : new RpcError(ErrorCode.TIMEOUT, `${envelope.method}: the caller stopped waiting`, { retriable: true }),
      );
    signal.addEventListener("abort", abandon, { once: true });
    try {
      const put = this.#producer.send([{ topic, key: encoder.encode(key), value }]).catch((error: unknown) => {
        console.error(`command bus: ${envelope.method} could not be put on ${topic}`, error);
        throw unavailable(`${envelope.method}: the command bus did not take the command`);
      });
      // The deadline and the caller's signal hold while the command is still being put on the topic too.
      return await Promise.race([put.then(() => replied), replied]);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", abandon);
      this.#pending.delete(callId);
    }
  }

  #fail(callId: string, error: RpcError): void {
    this.#pending.get(callId)?.reject(error);
    this.#pending.delete(callId);
  }

  /** Settles the call a reply answers; a reply to a call no longer waiting (timed out, another life of this gateway) is dropped. */
  #settle(bytes: Uint8Array): void {
    let callId: string | undefined;
    try {
      const reply = decodeReply(bytes);
      callId = reply.callId;
      const call = this.#pending.get(callId);
      if (!call) return;
      this.#pending.delete(callId);
      try {
        call.resolve(replyOutcome(reply, call.output));
      } catch (error) {
        call.reject(error);
      }
    } catch (error) {
      console.error(`command bus: skipped a reply on ${this.#replyTopic}`, error);
      if (callId) this.#fail(callId, new RpcError(ErrorCode.INTERNAL, "the reply did not decode", { retriable: true }));
    }
  }

  /** Fails what is still waiting (UNAVAILABLE, retriable), stops reading replies and deletes this gateway's replies topic. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const callId of [...this.#pending.keys()]) this.#fail(callId, unavailable("command bus closed"));
    await this.#producer.close();
    await this.#replies?.close();
    await deleteTopics(this.#options.connection, [this.#replyTopic]).catch((error: unknown) =>
      console.error(`command bus: could not delete ${this.#replyTopic}`, error),
    );
  }
}
