import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Database } from "@sluice/database";
import { testBackends } from "@sluice/database/testing";
import { inlineParameters, sqlLiteral, writeBehind, writeLane } from "./rebuildWrites";

describe("inlining parameters", () => {
  test("quotes values as literals of unknown type", () => {
    assert.equal(sqlLiteral("it's"), "'it''s'");
    assert.equal(sqlLiteral("a\\b"), "E'a\\\\b'");
    assert.equal(sqlLiteral(12.5), "'12.5'");
    assert.equal(sqlLiteral(7n), "'7'");
    assert.equal(sqlLiteral(false), "'false'");
    assert.equal(sqlLiteral(null), "NULL");
    assert.throws(() => sqlLiteral("a\u0000b"), RangeError);
  });

  test("dollar-quotes a long text with a tag it does not hold", () => {
    const long = `${"x".repeat(5000)}'\\`;
    assert.equal(sqlLiteral(long), `$sl$${long}$sl$`);
    const holdsTag = `${"y".repeat(5000)}$sl$`;
    assert.equal(sqlLiteral(holdsTag), `$sl0$${holdsTag}$sl0$`);
    const endsLikeTag = `${"z".repeat(5000)}$sl`;
    assert.equal(sqlLiteral(endsLikeTag), `$sl0$${endsLikeTag}$sl0$`);
  });

  test("replaces $n outside quotes, identifiers, dollar quotes and comments", () => {
    assert.equal(
      inlineParameters(
        `update "t$1" set a = $1, b = '$2', c = $$ $2 $$, d = $tag$ $1 $tag$ -- $2\n where e = $2 /* $1 */ and f = $10`,
        ["x", "y", 3, 4, 5, 6, 7, 8, 9, "ten"],
      ),
      `update "t$1" set a = 'x', b = '$2', c = $$ $2 $$, d = $tag$ $1 $tag$ -- $2\n where e = 'y' /* $1 */ and f = 'ten'`,
    );
    assert.throws(() => inlineParameters("select $2", ["only one"]), RangeError);
    assert.throws(() => inlineParameters("select 'open", []), SyntaxError);
  });
});

for (const backend of await testBackends()) {
  describe(`held-back writes on ${backend.name}`, { skip: backend.skip }, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
      await db.exec(
        "create table held (id text primary key, label text, weight double precision, n bigint, flag boolean, at timestamptz)",
      );
    });
    after(() => db?.close());

    test("land in order, as bound parameters would, before any statement that returns rows", async () => {
      const tricky = ["it's", "back\\slash", "$1 and $$", "ünïcødé ✓", ""];
      const read = await db.transaction(async (tx) => {
        const writes = writeBehind(tx);
        for (const [i, label] of tricky.entries()) {
          await writes.query("insert into held (id, label, weight, n, flag) values ($1, $2, $3, $4, $5)", [
            `k${i}`,
            label,
            0.1 + 0.2 * i,
            BigInt(Number.MAX_SAFE_INTEGER) + BigInt(i),
            i % 2 === 0,
          ]);
        }
        await writes.query("update held set weight = $2 where id = $1", ["k0", Number.NaN]);
        // A date is not held back: sent as it comes, after what waits.
        await writes.query("update held set at = $2 where id = $1", ["k1", new Date("2026-11-25T12:00:00Z")]);
        const { rows } = await writes.query<{ id: string }>("delete from held where id = $1 returning id", ["k4"]);
        assert.deepEqual(rows, [{ id: "k4" }]);
        await writes.query("update held set label = label || '!' where id = $1", ["k2"]);
        await writes.flush();
        return tx.query<Record<string, unknown>>("select * from held order by id");
      });
      assert.deepEqual(
        read.rows.map((row) => [row.id, row.label, row.n, row.flag]),
        [
          ["k0", "it's", 9007199254740991n, true],
          ["k1", "back\\slash", 9007199254740992n, false],
          ["k2", "$1 and $$!", 9007199254740993n, true],
          ["k3", "ünïcødé ✓", 9007199254740994n, false],
        ],
      );
      assert.ok(Number.isNaN(read.rows[0]!.weight));
      assert.equal(read.rows[1]!.weight, 0.1 + 0.2);
      assert.equal((read.rows[1]!.at as Date).toISOString(), "2026-11-25T12:00:00.000Z");
    });

    test("long texts land as they are", async () => {
      const texts = [
        `${"a".repeat(5000)}'it''s' \\n $1 $$`,
        `${"b".repeat(5000)}$sl$ and $sl0$`,
        `${"c".repeat(5000)}$sl`,
      ];
      const read = await db.transaction(async (tx) => {
        const writes = writeBehind(tx);
        for (const [i, label] of texts.entries())
          await writes.query("insert into held (id, label) values ($1, $2)", [`long${i}`, label]);
        await writes.flush();
        return tx.query<{ label: string }>("select label from held where id like 'long%' order by id");
      });
      assert.deepEqual(
        read.rows.map((row) => row.label),
        texts,
      );
      await db.exec("delete from held where id like 'long%'");
    });

    test("lanes hold their writes until every lane has read: the transaction id is taken at the flush", async () => {
      await db.exec("create table lane_a (id text primary key); create table lane_b (id text primary key)");
      await db.transaction(async (tx) => {
        const writes = writeBehind(tx);
        const a = writeLane(writes);
        const b = writeLane(writes);
        await a.query("insert into lane_a (id) values ($1)", ["a1"]);
        // Lane b reads its own table: lane a's write still waits, and nothing has written yet.
        assert.deepEqual((await b.query("select id from lane_b")).rows, []);
        assert.equal(writes.writingSince, undefined);
        assert.deepEqual((await tx.query("select pg_current_xact_id_if_assigned() as xid")).rows, [{ xid: null }]);
        await b.query("insert into lane_b (id) values ($1)", ["b1"]);
        // A lane reading after its own write sees it (its own writes go first).
        assert.deepEqual((await a.query<{ id: string }>("select id from lane_a")).rows, [{ id: "a1" }]);
        assert.notEqual(writes.writingSince, undefined);
        assert.deepEqual((await tx.query("select id from lane_b")).rows, []);
        await writes.flush();
        assert.deepEqual((await tx.query("select id from lane_b")).rows, [{ id: "b1" }]);
      });
      // Over anything but a write-behind transaction, a lane is the transaction itself.
      await db.transaction(async (tx) => assert.equal(writeLane(tx), tx));
    });

    test("a failing held-back write fails the transaction when sent", async () => {
      await assert.rejects(
        db.transaction(async (tx) => {
          const writes = writeBehind(tx);
          await writes.query("insert into held (id) values ($1)", ["dup"]);
          await writes.query("insert into held (id) values ($1)", ["dup"]);
          await writes.flush();
        }),
        /duplicate key/,
      );
      assert.equal((await db.query("select 1 from held where id = 'dup'")).rows.length, 0);
    });
  });
}
