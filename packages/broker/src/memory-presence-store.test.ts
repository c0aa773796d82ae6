import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MemoryPresenceStore } from "./memory-presence-store";

const ana = (clientId: string) => ({ clientId, userId: "ana", displayName: "Ana" });
const ben = (clientId: string) => ({ clientId, userId: "ben", displayName: "Ben" });

describe("MemoryPresenceStore", () => {
  test("a user's first connection joins, later ones only count", async () => {
    const presence = new MemoryPresenceStore();
    assert.equal((await presence.add("c", ana("1"))).changed, true);
    const second = await presence.add("c", ana("2"));
    assert.equal(second.changed, false);
    assert.equal(second.member.connections, 2);
    assert.equal((await presence.add("c", ana("2"))).changed, false, "the same connection twice counts once");
    assert.equal((await presence.add("c", ben("3"))).changed, true);
    const members = await presence.members("c");
    assert.deepEqual(members.map((m) => [m.userId, m.displayName, m.connections]).sort(), [
      ["ana", "Ana", 2],
      ["ben", "Ben", 1],
    ]);
  });

  test("a user leaves only when the last connection goes", async () => {
    const presence = new MemoryPresenceStore();
    await presence.add("c", ana("1"));
    await presence.add("c", ana("2"));
    assert.equal((await presence.remove("c", "1"))?.changed, false);
    const last = await presence.remove("c", "2");
    assert.equal(last?.changed, true);
    assert.equal(last?.member.userId, "ana");
    assert.equal(await presence.remove("c", "2"), undefined);
    assert.deepEqual(await presence.members("c"), []);
  });

  test("channels are independent", async () => {
    const presence = new MemoryPresenceStore();
    await presence.add("a", ana("1"));
    assert.deepEqual(await presence.members("b"), []);
    assert.equal(await presence.remove("b", "1"), undefined);
  });
});
