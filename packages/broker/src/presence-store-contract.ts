// For tests only: what every PresenceStore must do, run against each implementation.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { PresenceStore } from "./presence-store";

/**
 * Two nodes' views of one presence: in memory one instance (one process sees every connection),
 * in Redis two instances.
 */
export interface PresenceNodes {
  readonly one: PresenceStore;
  readonly two: PresenceStore;
  close(): Promise<void>;
}

export const ana = (clientId: string) => ({ clientId, userId: "ana", displayName: "Ana" });
export const ben = (clientId: string) => ({ clientId, userId: "ben", displayName: "Ben" });

export function presenceStoreContract(
  name: string,
  open: () => Promise<PresenceNodes>,
  options: { skip?: string | false } = {},
): void {
  describe(`${name} (PresenceStore contract)`, { skip: options.skip }, () => {
    const withNodes = (run: (nodes: PresenceNodes) => Promise<void>) => async () => {
      const nodes = await open();
      try {
        await run(nodes);
      } finally {
        await nodes.close();
      }
    };

    test(
      "a user's first connection joins, later ones only count",
      withNodes(async ({ one: presence }) => {
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
      }),
    );

    test(
      "a user leaves only when the last connection goes",
      withNodes(async ({ one: presence }) => {
        await presence.add("c", ana("1"));
        await presence.add("c", ana("2"));
        assert.equal((await presence.remove("c", "1"))?.changed, false);
        const last = await presence.remove("c", "2");
        assert.equal(last?.changed, true);
        assert.equal(last?.member.userId, "ana");
        assert.equal(last?.member.connections, 0);
        assert.equal(await presence.remove("c", "2"), undefined);
        assert.deepEqual(await presence.members("c"), []);
      }),
    );

    test(
      "channels are independent",
      withNodes(async ({ one: presence }) => {
        await presence.add("a", ana("1"));
        assert.deepEqual(await presence.members("b"), []);
        assert.equal(await presence.remove("b", "1"), undefined);
      }),
    );

    test(
      "join and leave are counted per user across tabs and nodes",
      withNodes(async ({ one, two }) => {
        assert.equal((await one.add("c", ana("tab-1"))).changed, true, "first tab, node one: joins");
        assert.equal((await one.add("c", ana("tab-2"))).changed, false, "second tab, node one");
        const third = await two.add("c", ana("tab-3"));
        assert.deepEqual([third.changed, third.member.connections], [false, 3], "third tab, node two");
        assert.deepEqual(
          (await two.members("c")).map((m) => [m.userId, m.connections]),
          [["ana", 3]],
        );
        assert.equal((await one.remove("c", "tab-1"))?.changed, false);
        assert.equal((await one.remove("c", "tab-2"))?.changed, false, "a tab is still open on node two");
        const last = await two.remove("c", "tab-3");
        assert.deepEqual([last?.changed, last?.member.userId], [true, "ana"], "the last tab leaves");
        assert.deepEqual(await one.members("c"), []);
      }),
    );
  });
}
