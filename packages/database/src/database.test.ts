import { randomBytes } from "node:crypto";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Database } from "./database";
import { migrate, openDatabase } from "./index";
import { createInMemory } from "./pglite-instance";
import { pgliteOverAPort, postgresTestUrl, testBackends } from "./testing";

for (const backend of [...(await testBackends()), pgliteOverAPort]) {
  describe(`Database on ${backend.name}`, { skip: backend.skip }, () => {
    // One database per backend for the whole suite: starting PGlite costs seconds.
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(() => db?.close());

    test("query binds parameters and returns int8 and xid8 as bigint, jsonb parsed", async () => {
      const { rows } = await db.query<{ n: bigint; x: bigint; j: unknown; s: string }>(
        "select $1::int8 as n, pg_current_xact_id() as x, $2::jsonb as j, $3::text as s",
        ["9007199254740993", JSON.stringify({ a: [1, "b"] }), "hi"],
      );
      assert.deepEqual(rows[0]?.n, 9007199254740993n);
      assert.equal(typeof rows[0]?.x, "bigint");
      assert.deepEqual(rows[0]?.j, { a: [1, "b"] });
      assert.equal(rows[0]?.s, "hi");
    });

    test("bigint, object and Date parameters bind the same way on both backends", async () => {
      const { rows } = await db.query("select $1::int8 as n, $2::jsonb as j, $3::timestamptz as t", [
        9007199254740993n,
        { a: 1 },
        new Date(0),
      ]);
      assert.deepEqual(rows, [{ n: 9007199254740993n, j: { a: 1 }, t: new Date(0) }]);
    });

    test("timestamptz rows in runs of one value come back each as a Date of its own", async () => {
      const { rows } = await db.query<{ t: Date }>(
        `select t from unnest($1::timestamptz[]) with ordinality as v(t, n) order by n`,
        [
          [
            "2026-01-01T00:00:00.123456Z",
            "2026-01-01T00:00:00.123456Z",
            "2026-01-01T00:00:01Z",
            "2026-01-01T00:00:00.123456Z",
          ],
        ],
      );
      const times = rows.map((row) => row.t.toISOString());
      assert.deepEqual(times, [
        "2026-01-01T00:00:00.123Z",
        "2026-01-01T00:00:00.123Z",
        "2026-01-01T00:00:01.000Z",
        "2026-01-01T00:00:00.123Z",
      ]);
      assert.notEqual(rows[0]!.t, rows[1]!.t);
      rows[0]!.t.setTime(0);
      assert.equal(rows[1]!.t.toISOString(), "2026-01-01T00:00:00.123Z");
    });

    test("a named statement runs again by name with new parameters, in and out of transactions", async () => {
      const sql = "select $1::int + 1 as n, $2::text[] as a";
      const named = { name: "database_test_named" };
      for (const n of [1, 2]) {
        const { rows } = await db.query<{ n: number; a: string[] }>(sql, [n, ["x", `${n}`]], named);
        assert.deepEqual(rows, [{ n: n + 1, a: ["x", `${n}`] }]);
      }
      const inside = await db.transaction(async (tx) => (await tx.query<{ n: number }>(sql, [7, []], named)).rows);
      assert.deepEqual(inside, [{ n: 8, a: [] }]);
      // A failing run rejects with its SQLSTATE, and leaves the statement and the session usable.
      const divide = { name: "database_test_divide" };
      await assert.rejects(db.query("select 1 / $1::int as q", [0], divide), { code: "22012" });
      assert.deepEqual((await db.query("select 1 / $1::int as q", [1], divide)).rows, [{ q: 1 }]);
      await assert.rejects(db.query("select 1 / $1::int as q", [1], named), /other SQL|unique/);
    });

    test("transaction commits on success and rolls back on a throw", async () => {
      await db.exec("create table t (v int primary key); create table u (v int)");
      await db.transaction(async (tx) => {
        await tx.query("insert into t values (1)");
        await tx.query("insert into u values (1)");
      });
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query("insert into u values (2)");
          await tx.query("insert into t values (1)"); // duplicate key
        }),
        /duplicate key/,
      );
      const { rows } = await db.query<{ v: number }>("select v from u order by v");
      assert.deepEqual(
        rows.map((r) => r.v),
        [1],
      );
      // The database is usable after a rolled-back transaction.
      await db.transaction(async (tx) => void (await tx.query("insert into u values (3)")));
      assert.equal((await db.query("select * from u")).rows.length, 2);
    });

    test("a transaction's queries share one connection and one transaction", async () => {
      const seen = await db.transaction(async (tx) => {
        const first = await tx.query<{ x: bigint }>(
          "select pg_current_xact_id() as x, set_config('sluice.probe', 'in-tx', true)",
        );
        const second = await tx.query<{ x: bigint; probe: string }>(
          "select pg_current_xact_id() as x, current_setting('sluice.probe') as probe",
        );
        return { first: first.rows[0]!.x, second: second.rows[0]! };
      });
      assert.equal(seen.second.x, seen.first);
      assert.equal(seen.second.probe, "in-tx");
    });

    test("a query on the database itself inside its transaction fails at once instead of hanging", async () => {
      await assert.rejects(
        db.transaction(() => db.query("select 1")),
        /use the transaction's `tx`/,
      );
      await assert.rejects(
        db.transaction(() => db.transaction(async () => {})),
        /use the transaction's `tx`/,
      );
      // Work that a transaction starts but that runs after it has ended may use the database.
      let afterwards!: Promise<{ rows: unknown[] }>;
      await db.transaction(async () => {
        afterwards = new Promise((resolve) => setImmediate(resolve)).then(() => db.query("select 1 as one"));
      });
      assert.deepEqual((await afterwards).rows, [{ one: 1 }]);
    });

    test("migrate applies each id once, in order, even when called concurrently by several modules", async () => {
      const first = [
        { id: "a/001", sql: "create table a (v int); insert into a values (1)" },
        { id: "a/002", sql: "insert into a values (2)" },
      ];
      const second = [{ id: "b/001", sql: "create table b (v int)" }];
      const [appliedA, appliedB] = await Promise.all([migrate(db, first), migrate(db, second)]);
      assert.deepEqual(appliedA, ["a/001", "a/002"]);
      assert.deepEqual(appliedB, ["b/001"]);
      assert.deepEqual(await migrate(db, first), []);
      assert.deepEqual(await migrate(db, [...first, { id: "a/003", sql: "insert into a values (3)" }]), ["a/003"]);
      const { rows } = await db.query<{ v: number }>("select v from a order by v");
      assert.deepEqual(
        rows.map((r) => r.v),
        [1, 2, 3],
      );
    });

    test("a failing migration leaves nothing behind and is not recorded", async () => {
      await assert.rejects(migrate(db, [{ id: "c/001", sql: "create table c (v int); select nope" }]));
      assert.deepEqual(await migrate(db, [{ id: "c/001", sql: "create table c (v int)" }]), ["c/001"]);
    });
  });
}

test("a PGlite data dir keeps its data across close and reopen", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sluice-db-"));
  try {
    const first = await openDatabase({ kind: "pglite", dataDir: dir });
    await migrate(first, [{ id: "d/001", sql: "create table d (v text); insert into d values ('kept')" }]);
    await first.close();
    const second = await openDatabase({ kind: "pglite", dataDir: dir });
    try {
      assert.deepEqual(await migrate(second, [{ id: "d/001", sql: "create table d (v text)" }]), []);
      assert.deepEqual((await second.query("select v from d")).rows, [{ v: "kept" }]);
    } finally {
      await second.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("an in-memory PGlite starts from a damaged template by running initdb, and repairs the template", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sluice-template-"));
  const templatePath = join(dir, "template.tar.gz");
  try {
    await writeFile(templatePath, "not a dump");
    const pglite = await createInMemory(templatePath);
    try {
      assert.deepEqual((await pglite.query("select 1 as one")).rows, [{ one: 1 }]);
    } finally {
      await pglite.close();
    }
    const repaired = await readFile(templatePath);
    assert.deepEqual([...repaired.subarray(0, 2)], [0x1f, 0x8b], "a gzip dump replaced the damaged file");
    const fromTemplate = await createInMemory(templatePath);
    await fromTemplate.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("openDatabase refuses a configuration that cannot work before connecting", async () => {
  await assert.rejects(openDatabase({ kind: "postgres", url: "localhost:5432" }), /database url must be/);
  await assert.rejects(openDatabase({ kind: "mysql" } as never), /unknown database kind "mysql"/);
});

const onServer = (await testBackends()).find((backend) => backend.name === "postgres")!;

test(
  "processes opening one new schema at once all start (the catalog race on `if not exists`)",
  { skip: onServer.skip },
  async () => {
    const schema = `race_${randomBytes(6).toString("hex")}`;
    const opened = await Promise.allSettled(
      Array.from({ length: 8 }, () =>
        openDatabase({ kind: "postgres", url: postgresTestUrl, schema, maxConnections: 1 }),
      ),
    );
    const dbs = opened.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
    try {
      assert.deepEqual(
        opened.filter((result) => result.status === "rejected").map((result) => String(result.reason)),
        [],
      );
      for (const db of dbs) assert.equal((await db.query("select 1 as one")).rows.length, 1);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
      const cleanup = await openDatabase({ kind: "postgres", url: postgresTestUrl, maxConnections: 1 });
      await cleanup.exec(`drop schema if exists ${schema} cascade`);
      await cleanup.close();
    }
  },
);
