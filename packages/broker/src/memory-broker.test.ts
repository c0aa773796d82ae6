import { create } from "@bufbuild/protobuf";
import {
  PublicationSchema,
  StreamPositionSchema,
  type PresenceChange,
  type Publication,
} from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { BrokerListener } from "./broker";
import { MemoryBroker } from "./memory-broker";

const publication = (channel: string) => create(PublicationSchema, { channel });

class Recorder implements BrokerListener {
  readonly publications: Array<[string, Publication]> = [];
  readonly presences: Array<[string, PresenceChange]> = [];
  publication(channel: string, p: Publication): void {
    this.publications.push([channel, p]);
  }
  presence(channel: string, change: PresenceChange): void {
    this.presences.push([channel, change]);
  }
}

describe("MemoryBroker", () => {
  test("gives each channel its own increasing offsets under one epoch", async () => {
    const broker = new MemoryBroker();
    const a1 = await broker.publish("o/a", publication("a"));
    const a2 = await broker.publish("o/a", publication("a"));
    const b1 = await broker.publish("o/b", publication("b"));
    assert.deepEqual([a1.offset, a2.offset, b1.offset], [1n, 2n, 1n]);
    assert.equal(a1.epoch, a2.epoch);
    assert.notEqual(a1.epoch, b1.epoch);
    await broker.close();
  });

  test("delivers only to listeners of the channel, until they unsubscribe", async () => {
    const broker = new MemoryBroker();
    const listener = new Recorder();
    await broker.subscribe("o/a", listener);
    await broker.publish("o/a", publication("a"));
    await broker.publish("o/b", publication("b"));
    await broker.unsubscribe("o/a", listener);
    await broker.publish("o/a", publication("a"));
    assert.deepEqual(
      listener.publications.map(([channel, p]) => [channel, p.offset]),
      [["o/a", 1n]],
    );
    await broker.close();
  });

  test("recovers exactly the publications after a position, in order", async () => {
    const broker = new MemoryBroker();
    const first = await broker.publish("o/a", publication("a"));
    await broker.publish("o/a", publication("a"));
    await broker.publish("o/a", publication("a"));
    const history = await broker.history(
      "o/a",
      create(StreamPositionSchema, { offset: first.offset, epoch: first.epoch }),
    );
    assert.equal(history.recovered, true);
    assert.deepEqual(
      history.publications.map((p) => p.offset),
      [2n, 3n],
    );
    assert.equal(history.position.offset, 3n);
    const upToDate = await broker.history("o/a", history.position);
    assert.equal(upToDate.recovered, true);
    assert.equal(upToDate.publications.length, 0);
    await broker.close();
  });

  test("refuses to recover beyond the retained history, from the future or from another epoch", async () => {
    const broker = new MemoryBroker({ historySize: 2 });
    const first = await broker.publish("o/a", publication("a"));
    for (let i = 0; i < 3; i++) await broker.publish("o/a", publication("a"));
    const epoch = first.epoch;
    const at = (offset: bigint, e = epoch) => create(StreamPositionSchema, { offset, epoch: e });
    assert.equal((await broker.history("o/a", at(1n))).recovered, false, "offsets 2 was dropped");
    assert.deepEqual(
      (await broker.history("o/a", at(2n))).publications.map((p) => p.offset),
      [3n, 4n],
    );
    assert.equal((await broker.history("o/a", at(9n))).recovered, false);
    assert.equal((await broker.history("o/a", at(4n, "other"))).recovered, false);
    await broker.close();
  });

  test("a channel's position exists before its first publication and recovers from there", async () => {
    const broker = new MemoryBroker();
    const { position, recovered } = await broker.history("o/new");
    assert.equal(recovered, false);
    assert.equal(position.offset, 0n);
    await broker.publish("o/new", publication("new"));
    const history = await broker.history("o/new", position);
    assert.equal(history.recovered, true);
    assert.equal(history.publications.length, 1);
    await broker.close();
  });

  test("presence changes reach the channel's listeners and are not kept", async () => {
    const broker = new MemoryBroker();
    const listener = new Recorder();
    await broker.subscribe("o/a", listener);
    await broker.publishPresence("o/a", { $typeName: "sluice.v1.PresenceChange", channel: "a", joined: true });
    assert.equal(listener.presences.length, 1);
    assert.equal((await broker.history("o/a")).position.offset, 0n);
    await broker.close();
  });
});
