// For tests only: what every Broker must do, run against each implementation so they cannot drift.
import { create } from "@bufbuild/protobuf";
import {
  PresenceChangeSchema,
  PublicationSchema,
  StreamPositionSchema,
  type PresenceChange,
  type Publication,
  type StreamPosition,
} from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { streamsRemembered, type Broker, type BrokerListener } from "./broker";
import { waitFor } from "./testing";

/**
 * Two edges over one engine: a publication from either reaches listeners on both. In memory both
 * are one instance (every edge is in the process); in Redis they are two instances.
 */
export interface Edges {
  readonly publisher: Broker;
  readonly edge: Broker;
  close(): Promise<void>;
}

export type OpenEdges = (options: { historySize?: number }) => Promise<Edges>;

export class Recorder implements BrokerListener {
  readonly publications: Array<[string, Publication]> = [];
  readonly presences: Array<[string, PresenceChange]> = [];
  readonly losses: Array<[string, StreamPosition]> = [];
  publication(channel: string, p: Publication): void {
    this.publications.push([channel, p]);
  }
  presence(channel: string, change: PresenceChange): void {
    this.presences.push([channel, change]);
  }
  stateLost(channel: string, position: StreamPosition): void {
    this.losses.push([channel, position]);
  }
  offsets(channel: string): bigint[] {
    return this.publications.filter(([c]) => c === channel).map(([, p]) => p.offset);
  }
}

export const publication = (channel: string) => create(PublicationSchema, { channel });

/** Publishes on "o/<name>" a publication of no event stream (never a repeat); the positioned publication. */
export async function published(broker: Broker, channel: string): Promise<Publication> {
  const positioned = await broker.publish(channel, publication(channel.slice(channel.indexOf("/") + 1)));
  assert.ok(positioned, `a publication on ${channel} was taken for a repeat`);
  return positioned;
}

export function brokerContract(name: string, open: OpenEdges, options: { skip?: string | false } = {}): void {
  describe(`${name} (Broker contract)`, { skip: options.skip }, () => {
    const withEdges = (historySize: number | undefined, run: (edges: Edges) => Promise<void>) => async () => {
      const edges = await open({ historySize });
      try {
        await run(edges);
      } finally {
        await edges.close();
      }
    };

    test(
      "gives each channel its own increasing offsets under one epoch",
      withEdges(undefined, async ({ publisher }) => {
        const a1 = await published(publisher, "o/a");
        const a2 = await published(publisher, "o/a");
        const b1 = await published(publisher, "o/b");
        assert.deepEqual([a1.offset, a2.offset, b1.offset], [1n, 2n, 1n]);
        assert.equal(a1.epoch, a2.epoch);
        assert.notEqual(a1.epoch, b1.epoch);
        assert.equal(a1.channel, "a", "the publication keeps the channel name it was given");
      }),
    );

    test(
      "an event stream's version the channel carried already is not published again, from any edge",
      withEdges(undefined, async ({ publisher, edge }) => {
        const listener = new Recorder();
        await edge.subscribe("o/a", listener);
        const event = (streamId: string, streamVersion: bigint) =>
          create(PublicationSchema, { channel: "a", metadata: { streamId, streamVersion } });
        assert.equal((await publisher.publish("o/a", event("order-1", 1n)))?.offset, 1n);
        // The bus hands it on again (a sink crashed before committing), to the same sink or another.
        assert.equal(await edge.publish("o/a", event("order-1", 1n)), undefined);
        assert.equal((await edge.publish("o/a", event("order-1", 2n)))?.offset, 2n);
        assert.equal(await publisher.publish("o/a", event("order-1", 1n)), undefined, "an older version too");
        assert.equal((await publisher.publish("o/b", event("order-1", 1n)))?.offset, 1n, "each channel for itself");
        // At least the last streamsRemembered streams are remembered.
        for (let i = 0; i < streamsRemembered; i++) await publisher.publish("o/c", event(`order-${i}`, 1n));
        assert.equal(await publisher.publish("o/c", event("order-0", 1n)), undefined);
        assert.equal((await publisher.publish("o/a", event("order-2", 1n)))?.offset, 3n);
        await waitFor(() => listener.publications.length === 3, "three publications on o/a");
        assert.deepEqual(listener.offsets("o/a"), [1n, 2n, 3n]);
        assert.deepEqual(listener.losses, [], "a broker that kept its state tells no loss");
      }),
    );

    test(
      "delivers only to listeners of the channel, on another edge too, until they unsubscribe",
      withEdges(undefined, async ({ publisher, edge }) => {
        const listener = new Recorder();
        const sentinel = new Recorder();
        await edge.subscribe("o/a", listener);
        await edge.subscribe("o/sentinel", sentinel);
        const sent = await published(publisher, "o/a");
        await publisher.publish("o/b", publication("b"));
        await waitFor(() => listener.publications.length === 1, "the publication on o/a");
        assert.deepEqual(listener.publications[0]?.[1], sent);
        await edge.unsubscribe("o/a", listener);
        await publisher.publish("o/a", publication("a"));
        // Delivery is in publish order: once the sentinel's arrives, an o/a one would have too.
        await publisher.publish("o/sentinel", publication("sentinel"));
        await waitFor(() => sentinel.publications.length === 1, "the sentinel publication");
        assert.deepEqual(
          listener.publications.map(([channel, p]) => [channel, p.offset]),
          [["o/a", 1n]],
        );
      }),
    );

    test(
      "several listeners of one channel on one edge each get every publication",
      withEdges(undefined, async ({ publisher, edge }) => {
        const first = new Recorder();
        const second = new Recorder();
        await edge.subscribe("o/a", first);
        await edge.subscribe("o/a", second);
        await publisher.publish("o/a", publication("a"));
        await waitFor(() => first.publications.length === 1 && second.publications.length === 1, "both listeners");
        await edge.unsubscribe("o/a", first);
        await publisher.publish("o/a", publication("a"));
        await waitFor(() => second.publications.length === 2, "the remaining listener");
        assert.equal(first.publications.length, 1);
      }),
    );

    test(
      "offsets stay unique and increasing under concurrent publishes from two edges",
      withEdges(undefined, async ({ publisher, edge }) => {
        const listener = new Recorder();
        await edge.subscribe("o/busy", listener);
        const each = 50;
        const sent = await Promise.all(
          Array.from({ length: each * 2 }, (_, i) => published(i % 2 ? edge : publisher, "o/busy")),
        );
        const offsets = sent.map((p) => p.offset).sort((a, b) => (a < b ? -1 : 1));
        assert.deepEqual(
          offsets,
          Array.from({ length: each * 2 }, (_, i) => BigInt(i + 1)),
        );
        assert.equal(new Set(sent.map((p) => p.epoch)).size, 1);
        await waitFor(() => listener.publications.length === each * 2, "every publication");
        assert.deepEqual(listener.offsets("o/busy"), offsets, "delivered in offset order");
      }),
    );

    test(
      "recovers exactly the publications after a position, in order",
      withEdges(undefined, async ({ publisher, edge }) => {
        const first = await published(publisher, "o/a");
        await publisher.publish("o/a", publication("a"));
        const third = await published(publisher, "o/a");
        const history = await edge.history(
          "o/a",
          create(StreamPositionSchema, { offset: first.offset, epoch: first.epoch }),
        );
        assert.equal(history.recovered, true);
        assert.deepEqual(
          history.publications.map((p) => p.offset),
          [2n, 3n],
        );
        assert.deepEqual(history.publications[1], third, "a recovered publication equals the one published");
        assert.equal(history.position.offset, 3n);
        const upToDate = await edge.history("o/a", history.position);
        assert.equal(upToDate.recovered, true);
        assert.equal(upToDate.publications.length, 0);
      }),
    );

    test(
      "refuses to recover beyond the retained history, from the future or from another epoch",
      withEdges(2, async ({ publisher }) => {
        const first = await published(publisher, "o/a");
        for (let i = 0; i < 3; i++) await publisher.publish("o/a", publication("a"));
        const epoch = first.epoch;
        const at = (offset: bigint, e = epoch) => create(StreamPositionSchema, { offset, epoch: e });
        assert.equal((await publisher.history("o/a", at(1n))).recovered, false, "offset 2 was dropped");
        assert.deepEqual(
          (await publisher.history("o/a", at(2n))).publications.map((p) => p.offset),
          [3n, 4n],
        );
        assert.equal((await publisher.history("o/a", at(9n))).recovered, false);
        assert.equal((await publisher.history("o/a", at(4n, "other"))).recovered, false);
        const refused = await publisher.history("o/a", at(0n, "other"));
        assert.deepEqual([refused.position.offset, refused.position.epoch], [4n, epoch]);
      }),
    );

    test(
      "from an epoch the channel no longer has: not recovered, but the current epoch whole while none of it is trimmed",
      withEdges(3, async ({ publisher, edge }) => {
        // "gone" stands for an epoch whose history was lost (a Redis restarted empty).
        const gone = create(StreamPositionSchema, { offset: 7n, epoch: "gone" });
        const empty = await edge.history("o/a", gone);
        assert.deepEqual([empty.recovered, empty.position.offset, empty.publications.length], [false, 0n, 0]);
        const first = await published(publisher, "o/a");
        await publisher.publish("o/a", publication("a"));
        const third = await published(publisher, "o/a");
        const whole = await edge.history("o/a", gone);
        assert.equal(whole.recovered, false, "what followed offset 7 in its own epoch is lost");
        assert.deepEqual(
          whole.publications.map((p) => [p.offset, p.epoch]),
          [
            [1n, first.epoch],
            [2n, first.epoch],
            [3n, first.epoch],
          ],
          "what the new epoch carried is not",
        );
        assert.deepEqual(whole.publications[2], third);
        assert.deepEqual([whole.position.offset, whole.position.epoch], [3n, first.epoch]);
        await publisher.publish("o/a", publication("a"));
        const trimmed = await edge.history("o/a", gone);
        assert.deepEqual([trimmed.recovered, trimmed.publications.length], [false, 0], "offset 1 was dropped");
      }),
    );

    test(
      "a channel's position exists before its first publication and recovers from there",
      withEdges(undefined, async ({ publisher, edge }) => {
        const { position, recovered } = await edge.history("o/new");
        assert.equal(recovered, false);
        assert.equal(position.offset, 0n);
        await publisher.publish("o/new", publication("new"));
        const history = await edge.history("o/new", position);
        assert.equal(history.recovered, true);
        assert.equal(history.publications.length, 1);
      }),
    );

    test(
      "presence changes reach the channel's listeners and are not kept",
      withEdges(undefined, async ({ publisher, edge }) => {
        const listener = new Recorder();
        await edge.subscribe("o/a", listener);
        const change = create(PresenceChangeSchema, {
          channel: "a",
          joined: true,
          member: { userId: "ana", displayName: "Ana", connections: 1 },
        });
        await publisher.publishPresence("o/a", change);
        await waitFor(() => listener.presences.length === 1, "the presence change");
        assert.deepEqual(listener.presences[0], ["o/a", change]);
        assert.equal((await publisher.history("o/a")).position.offset, 0n);
      }),
    );
  });
}
