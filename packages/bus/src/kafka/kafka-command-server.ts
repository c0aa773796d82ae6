import {
  consumeBatches,
  ensureTopics,
  listTopics,
  openProducer,
  type ConsumedRecord,
  type KafkaConnection,
  type KafkaRecord,
} from "@sluice/kafka";
import type { Router } from "@sluice/rpc";
import { runCommand } from "../command-runner";
import { deadlineOf, decodeCommand, encodeReply, type CommandOutcome } from "../records/command-record";
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

/** How long a listing of topics is trusted for a topic it holds. */
const listingTrustedMs = 2_000;

interface Listing {
  /** performance.now() when the listing was asked for. */
  readonly startedAt: number;
  /** The topics then, or undefined when the listing failed. */
  readonly names: Promise<ReadonlySet<string> | undefined>;
}

/**
 * Whether a reply topic exists. A gateway creates its replies topic before it sends a command and
 * deletes it when it closes (having failed the calls still waiting): a topic missing from a
 * listing begun after the command came is gone, and the reply is dropped rather than produced to a
 * topic that is gone (which fails only after the producer's retries, holding up the replies
 * behind it). A topic a listing held is trusted for listingTrustedMs, so a busy service lists
 * topics about once per that interval.
 */
function replyTopicCheck(connection: KafkaConnection) {
  let latest: Listing | undefined;
  let inFlight: Listing | undefined;

  function list(): Listing {
    const listing: Listing = {
      startedAt: performance.now(),
      names: listTopics(connection).then(
        (names) => new Set(names),
        (error: unknown) => {
          console.error("command service: listing topics failed", error);
          return undefined;
        },
      ),
    };
    void listing.names.then((names) => {
      if (inFlight === listing) inFlight = undefined;
      if (names && (!latest || latest.startedAt < listing.startedAt)) latest = listing;
    });
    return listing;
  }

  /** True unless a listing begun at `since` or later lacks the topic. */
  return async function exists(topic: string, since: number): Promise<boolean> {
    const settled = await latest?.names;
    if (latest && settled && (latest.startedAt >= since || performance.now() - latest.startedAt < listingTrustedMs)) {
      if (settled.has(topic)) return true;
      if (latest.startedAt >= since) return false;
    }
    while (inFlight && inFlight.startedAt < since) await inFlight.names;
    inFlight ??= list();
    const names = await inFlight.names;
    // A failed listing knows nothing: let the producer try.
    return names === undefined || names.has(topic);
  };
}

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
  const replyTopicExists = replyTopicCheck(options.connection);

  /**
   * Produces the reply to a command received at `receivedAt`; one that cannot go is logged and
   * dropped (its sender has answered or will answer UNAVAILABLE, retriable).
   */
  async function sendReply(reply: KafkaRecord, receivedAt: number): Promise<void> {
    if (!(await replyTopicExists(reply.topic, receivedAt))) {
      console.error(`command service: dropped a reply to ${reply.topic}, which no longer exists`);
      return;
    }
    try {
      await producer.send([reply]);
    } catch (error) {
      console.error(`command service: a reply to ${reply.topic} could not be produced`, error);
    }
  }

  /** Runs one command; the reply to produce, or nothing for a record that cannot be answered. */
  async function answer(record: ConsumedRecord): Promise<KafkaRecord | undefined> {
    let command;
    try {
      command = decodeCommand(record.value);
    } catch (error) {
      console.error(`command service: skipped ${record.topic}/${record.partition}@${record.offset}`, error);
      return undefined;
    }
    const reply = (outcome: CommandOutcome): KafkaRecord => ({
      topic: command.replyTopic,
      key: record.key,
      value: encodeReply(command.callId, outcome),
    });
    const remainingMs = deadlineOf(command) - Date.now();
    // Its sender has answered the caller already (retriable); a retry runs it then.
    if (remainingMs <= 0) return undefined;
    return reply(await runCommand(router, command, AbortSignal.timeout(remainingMs)));
  }

  async function handle(records: readonly ConsumedRecord[]): Promise<void> {
    const receivedAt = performance.now();
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
          if (reply) sent.push(sendReply(reply, receivedAt));
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
