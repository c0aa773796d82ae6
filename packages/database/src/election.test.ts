import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Database } from "./database";
import { startElection, type ElectedWork, type Election } from "./election";
import { openDatabase } from "./index";
import { postgresTestUrl, terminateLeaseHolders, testBackends } from "./testing";

async function eventually(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Work that records when each contender's instance runs, to count how many run at once. */
function recorder() {
  const running = new Set<string>();
  const log: string[] = [];
  let mostAtOnce = 0;
  return {
    running,
    log,
    get mostAtOnce() {
      return mostAtOnce;
    },
    work(who: string) {
      return async (): Promise<ElectedWork> => {
        running.add(who);
        log.push(`${who} started`);
        mostAtOnce = Math.max(mostAtOnce, running.size);
        return {
          async stop() {
            running.delete(who);
            log.push(`${who} stopped`);
          },
        };
      };
    },
  };
}

const quiet = { onError: () => {} };
const backends = await testBackends();

for (const backend of backends) {
  describe(`elections on ${backend.name}`, { skip: backend.skip }, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(() => db?.close());

    test("of two contenders one runs the work; when it stops, the other takes over", async () => {
      const work = recorder();
      const first = startElection(db, "relay", work.work("first"), { retryMs: 20, ...quiet });
      await eventually("the first leads", () => first.leading);
      const second = startElection(db, "relay", work.work("second"), { retryMs: 20, ...quiet });
      // Several of the standby's tries go by while the first holds the lease.
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(second.leading, false);
      assert.deepEqual([...work.running], ["first"]);

      await first.stop();
      assert.equal(first.leading, false);
      await eventually("the second leads", () => second.leading);
      assert.deepEqual(work.log, ["first started", "first stopped", "second started"]);
      assert.equal(work.mostAtOnce, 1, "never two at once");
      await second.stop();
      assert.deepEqual(work.running, new Set());
    });

    test("a start that throws gives the lease up: another contender takes it", async () => {
      const work = recorder();
      const errors: string[] = [];
      const failing = startElection(
        db,
        "projector",
        async () => {
          throw new Error("migrations failed");
        },
        { retryMs: 20, onError: (_error, message) => errors.push(message) },
      );
      await eventually("the failing start is reported", () => errors.length > 0);
      const healthy = startElection(db, "projector", work.work("healthy"), { retryMs: 20, ...quiet });
      await eventually("the healthy contender leads", () => healthy.leading);
      assert.equal(failing.leading, false);
      assert.match(errors[0]!, /starting the work failed/);
      await failing.stop();
      await healthy.stop();
    });

    test("stop before the lease was ever taken ends the tries", async () => {
      const holder = (await db.tryLease("relay"))!;
      const work = recorder();
      const waiting = startElection(db, "relay", work.work("waiting"), { retryMs: 20, ...quiet });
      await new Promise((resolve) => setTimeout(resolve, 60));
      await waiting.stop();
      await holder.release();
      assert.deepEqual(work.log, []);
    });
  });
}

const postgres = backends.find((backend) => backend.name === "postgres")!;

describe("elections on a PostgreSQL server, one database per process", { skip: postgres.skip }, () => {
  let db: Database;
  let other: Database;
  before(async () => {
    db = await postgres.open();
    const schema = (await db.query<{ name: string }>("select current_schema() as name")).rows[0]!.name;
    other = await openDatabase({ kind: "postgres", url: postgresTestUrl, schema, maxConnections: 2 });
  });
  after(async () => {
    await other?.close();
    await db?.close();
  });

  test("the holder's session ended: it stops its work at once and the other process takes over", async () => {
    const work = recorder();
    const errors: string[] = [];
    const elections: Election[] = [];
    try {
      // After losing its lease the first waits twice its retry interval: the second, trying
      // more often, has its chance first.
      const first = startElection(db, "relay", work.work("first"), {
        retryMs: 100,
        onError: (_error, message) => errors.push(message),
      });
      elections.push(first);
      await eventually("the first leads", () => first.leading);
      const second = startElection(other, "relay", work.work("second"), { retryMs: 20, ...quiet });
      elections.push(second);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual([...work.running], ["first"]);

      assert.equal(await terminateLeaseHolders(db, "relay"), 1);
      await eventually("the second leads", () => second.leading);
      assert.equal(first.leading, false);
      assert.deepEqual(work.log.slice(0, 3).sort(), ["first started", "first stopped", "second started"].sort());
      assert.deepEqual(errors, ["the lease was lost; stopping the work"]);
      // The first tries again as a standby, and waits.
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual([...work.running], ["second"]);
    } finally {
      await Promise.all(elections.map((election) => election.stop()));
    }
  });
});
