import { deleteGroups, deleteTopics, groupMemberCounts, listTopics } from "@sluice/kafka";
import { gatewayOfRepliesTopic, repliesGroup, type KafkaBusOptions } from "./topics";

export interface RepliesJanitorOptions extends KafkaBusOptions {
  /** How often it looks; a minute unless told. */
  readonly intervalMs?: number;
  /** How long a topic must have been seen without a reader before it goes; `intervalMs` unless told. */
  readonly graceMs?: number;
}

export interface RepliesJanitor {
  /** One look now (the timer's work): deletes what has been without a reader for the grace period. */
  sweep(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Deletes the replies topics of gateways that went without closing (kill -9, a lost machine), and
 * their consumer groups: a gateway that closes deletes its own, one that dies leaves it behind.
 * A topic goes once its gateway's group has had no member at two looks `graceMs` apart or more:
 * a gateway creates its topic a moment before its group has a member, and a look in that moment
 * must not take it for a dead one. Any number of processes may run one (each source gateway
 * does); deleting what another deleted first is nothing.
 */
export function startRepliesJanitor(options: RepliesJanitorOptions): RepliesJanitor {
  const intervalMs = options.intervalMs ?? 60_000;
  const graceMs = options.graceMs ?? intervalMs;
  /** Topics without a reader, by when that was first seen (performance.now()). */
  const unread = new Map<string, number>();
  let running: Promise<void> | undefined;
  let stopped = false;

  async function look(): Promise<void> {
    const gateways = new Map<string, string>();
    for (const topic of await listTopics(options.connection)) {
      const gatewayId = gatewayOfRepliesTopic(options, topic);
      if (gatewayId !== undefined) gateways.set(topic, gatewayId);
    }
    const members = await groupMemberCounts(
      options.connection,
      [...gateways.values()].map((gatewayId) => repliesGroup(options, gatewayId)),
    );
    const now = performance.now();
    const gone: string[] = [];
    for (const topic of [...unread.keys()]) if (!gateways.has(topic)) unread.delete(topic);
    for (const [topic, gatewayId] of gateways) {
      if ((members.get(repliesGroup(options, gatewayId)) ?? 0) > 0) {
        unread.delete(topic);
        continue;
      }
      const since = unread.get(topic);
      if (since === undefined) unread.set(topic, now);
      else if (now - since >= graceMs) gone.push(topic);
    }
    if (gone.length === 0) return;
    await deleteTopics(options.connection, gone);
    await deleteGroups(
      options.connection,
      gone.map((topic) => repliesGroup(options, gateways.get(topic)!)),
    );
    for (const topic of gone) unread.delete(topic);
    console.warn(`replies janitor: deleted ${gone.length} replies topic(s) of gateways gone without closing`);
  }

  async function sweep(): Promise<void> {
    running ??= look().finally(() => {
      running = undefined;
    });
    return running;
  }

  const timer = setInterval(() => {
    if (stopped) return;
    sweep().catch((error: unknown) => console.error("replies janitor: a look failed; trying again later", error));
  }, intervalMs);
  timer.unref();

  return {
    sweep,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
