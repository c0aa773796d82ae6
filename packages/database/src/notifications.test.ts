import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import type { Database } from "./database";
import { listenerApplicationName } from "./notifications";
import { oneSchemaManyProcesses, pgliteOverAPort, postgresTestUrl, testBackends } from "./testing";

/** The payloads a listener hears, and a way to wait for the next few. */
function recorder() {
  const heard: string[] = [];
  let wake = () => {};
  return {
    heard,
    listener: (payload: string) => {
      heard.push(payload);
      wake();
    },
    async until(count: number): Promise<string[]> {
      while (heard.length < count) await new Promise<void>((resolve) => (wake = resolve));
      return heard.slice(0, count);
    },
  };
}

for (const backend of [...(await testBackends()), pgliteOverAPort]) {
  describe(`notifications on ${backend.name}`, { skip: backend.skip }, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(() => db?.close());

    test("a listener hears each notify on its channel, in order, and nothing once it stops", async () => {
      const log = recorder();
      const other = recorder();
      const stop = await db.listen("log", log.listener);
      const stopOther = await db.listen("other", other.listener);
      await db.notify("log", "one");
      await db.notify("other", "elsewhere");
      await db.notify("log");
      assert.deepEqual(await log.until(2), ["one", ""]);
      assert.deepEqual(await other.until(1), ["elsewhere"]);
      await stop();
      await db.notify("log", "unheard");
      await db.notify("other", "last");
      // Notifications reach a session in the order they were sent: "last" comes after "unheard".
      assert.deepEqual(await other.until(2), ["elsewhere", "last"]);
      assert.deepEqual(log.heard, ["one", ""]);
      await stopOther();
    });

    test("notify inside a transaction is refused: it would wait for the commit, and the append for the notify", async () => {
      await assert.rejects(
        db.transaction(() => db.notify("log")),
        /inside one of its transactions/,
      );
    });
  });
}

const onServer = (await testBackends()).find((backend) => backend.name === "postgres")!;

describe("notifications across processes (PostgreSQL)", { skip: onServer.skip }, () => {
  const deployment = oneSchemaManyProcesses("notify");
  const otherDeployment = oneSchemaManyProcesses("notify_other");
  after(() => Promise.all([deployment.cleanUp(), otherDeployment.cleanUp()]));

  test("one database's notify reaches another's listener in its schema, and not in another schema", async () => {
    const [sender, listener, elsewhere, senderElsewhere] = await Promise.all([
      deployment.open(),
      deployment.open(),
      otherDeployment.open(),
      otherDeployment.open(),
    ]);
    const here = recorder();
    const there = recorder();
    await listener.listen("log", here.listener);
    await elsewhere.listen("log", there.listener);
    await sender.notify("log", "from this schema");
    // Sent after the first committed: a listener hearing both would hear the first one first.
    await senderElsewhere.notify("log", "from the other schema");
    assert.deepEqual(await here.until(1), ["from this schema"]);
    assert.deepEqual(await there.until(1), ["from the other schema"]);
  });

  test("a listening connection that is cut is made again, and hears what is sent after", async () => {
    const [sender, listener] = await Promise.all([deployment.open(), deployment.open()]);
    const log = recorder();
    await listener.listen("cut", log.listener);
    const admin = new pg.Client({ connectionString: postgresTestUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ ended: boolean }>(
        "select pg_terminate_backend(pid) as ended from pg_stat_activity where application_name = $1",
        [listenerApplicationName(deployment.schema)],
      );
      assert.ok(rows.length > 0 && rows.every((row) => row.ended), "the listening connection was found and ended");
    } finally {
      await admin.end();
    }
    // What is sent while it reconnects is missed (at most once), so keep sending until one is heard.
    const heard = log.until(1);
    let sent = 0;
    const sending = setInterval(() => void sender.notify("cut", `after ${++sent}`), 50);
    try {
      const [first] = await heard;
      assert.match(first!, /^after \d+$/);
    } finally {
      clearInterval(sending);
    }
  });
});
