// Server CPU per call of append_commands, and of variants of it (issue 4, session 7), each call its
// own transaction, sent as a named statement on one bare pg connection: what a change to the
// function's body saves, without the store's client around it. The backend's CPU comes from
// /proc/<pid>/schedstat (nanoseconds, the server on this machine), read before and after each round
// of calls; each backend's pid goes to stderr, for `perf record -p`.
//
//   npx tsx src/event-store/function-cpu.ts --variants same,noset,/tmp/v1.sql --calls 2000 --rounds 4 \
//     [--synchronous-commit off]
//
// A variant is a name of `derived` below (the migrations' function, edited) or a file. A variant file creates a function of append_commands' arguments named
// append_commands_<file name without .sql>, answering its columns or an `outcome` json column with
// `codes`; or, starting "-- statement", is a statement taking the same seventeen parameters, sent as
// it is. `append_commands` itself (the migrations') is measured as "current". Rounds alternate the
// variants, each on a new connection; a single-event command on a new or known stream (100 streams
// round robin, as the bench's single workload), with a new data subject's key proposed on a
// stream's first append; 200 calls of warm-up per round, not counted.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { migrate, openDatabase } from "@sluice/database";
import { eventStoreMigrations } from "@sluice/event-store";
import pg from "pg";
import { createFreshDatabase, withSynchronousCommit, type SynchronousCommit } from "./databases";

const { values } = parseArgs({
  options: {
    variants: { type: "string", default: "" },
    calls: { type: "string", default: "2000" },
    rounds: { type: "string", default: "5" },
    "synchronous-commit": { type: "string", default: "off" },
  },
});
const calls = Number(values.calls);
const rounds = Number(values.rounds);
const commit = values["synchronous-commit"] as SynchronousCommit;

/** The migration that last creates `append_commands`. */
const appendFunctionSql = eventStoreMigrations.findLast((m) => m.sql.includes("create function append_commands("))!.sql;

/**
 * Variants made from the append function as the migrations leave it, each by an edit of its text,
 * so that none is a copy of its two hundred lines. `same` is it under another name: the harness's
 * control, which should measure as `current`.
 */
const derived: Record<string, (sql: string) => string> = {
  same: (sql) => sql,
  // Without the five SETs: plans left to the plan cache, scans to the planner.
  noset: (sql) => sql.replace(/^\s*set (plan_cache_mode|enable_\w+) = \w+\n/gm, ""),
  // With plan_cache_mode only.
  noenable: (sql) => sql.replace(/^\s*set enable_\w+ = \w+\n/gm, ""),
  // Without the events' window and the final sorts: right for single events only.
  nosort: (sql) =>
    sql
      .replace("row_number() over (partition by e.entry order by e.n)", "1")
      .replace(/^\s*order by e\.n\n/m, "")
      .replaceAll(" order by i.global_position)", ")"),
};

/** `append_commands` as the last migration that creates it has it, as `append_commands_<name>`, edited. */
function derivedVariant(name: string): string {
  const created = appendFunctionSql.slice(appendFunctionSql.indexOf("create function append_commands("));
  const sql = derived[name]!(created).replace(
    "create function append_commands(",
    `create function append_commands_${name}(`,
  );
  // An edit that no longer finds its text (the function changed) would measure `same` under another name.
  if (
    name !== "same" &&
    sql ===
      derived.same!(created).replace("create function append_commands(", `create function append_commands_${name}(`)
  )
    throw new Error(`variant ${name}: its edit no longer applies to the migrations' append_commands`);
  return sql;
}

/** The SETs `append_commands` carries, as one statement for a connection. */
const functionSettings = [...appendFunctionSql.matchAll(/^\s*set ((?:plan_cache_mode|enable_\w+) = \w+)$/gm)]
  .map(([, setting]) => `set ${setting};`)
  .join(" ");

const schedNs = (pid: number) => Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]);

const database = await createFreshDatabase("fncpu");
try {
  const db = await openDatabase({ kind: "postgres", url: database.url });
  await migrate(db, eventStoreMigrations);
  const names = ["current"];
  // A file starting "-- statement" is a statement taking the same 17 parameters, sent as it is.
  const statements = new Map<string, string>();
  for (const variant of values.variants.split(",").filter(Boolean)) {
    if (variant in derived) {
      await db.exec(derivedVariant(variant));
      names.push(variant);
      continue;
    }
    const sql = readFileSync(variant, "utf8");
    if (sql.startsWith("-- statement")) statements.set(basename(variant, ".sql"), sql);
    else await db.exec(sql);
    names.push(basename(variant, ".sql"));
  }
  await db.close();

  const data = JSON.stringify([
    { orderId: "x", projectId: "p-1", consignee: "sealed-a", address: "sealed-b", weightKg: 12.5 },
  ]);
  const perName = new Map<string, number[]>(names.map((n) => [n, []]));
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) {
      const client = new pg.Client({ connectionString: withSynchronousCommit(database.url, commit) });
      await client.connect();
      // A statement runs under the settings the function carries (generic plans, index probes), as
      // a store sending it would set them on its connections: left to choose, the plan cache makes
      // custom plans of a large statement on every call.
      if (statements.has(name)) await client.query(functionSettings);
      const pid = (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid;
      console.error(`backend ${pid} ${name}`);
      const fn = name === "current" ? "append_commands" : `append_commands_${name}`;
      const text =
        statements.get(name) ??
        `select * from ${fn}($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15, $16, $17)`;
      const streams = Array.from({ length: 100 }, () => ({ id: randomUUID(), version: 0 }));
      const call = async (i: number) => {
        const stream = streams[i % streams.length]!;
        const commandId = randomUUID();
        const first = stream.version === 0;
        const { rows } = await client.query<{ codes?: (string | null)[]; outcome?: { codes: (string | null)[] } }>({
          name: "append",
          text,
          values: [
            ["org-bench"],
            [commandId],
            ["dispatch.v1.CommandAccepted"],
            JSON.stringify([{ versions: [{ streamId: stream.id, version: String(stream.version + 1) }] }]),
            JSON.stringify([{ userId: "user-1", commandId, correlationId: randomUUID() }]),
            [1],
            [stream.id],
            ["dispatch.order"],
            [String(stream.version)],
            [1],
            [false],
            [1],
            ["dispatch.v1.OrderCreated"],
            data,
            first ? ["org-bench"] : [],
            first ? [stream.id] : [],
            first ? [Buffer.from(randomUUID()).toString("base64")] : [],
          ],
        });
        const codes = rows[0]!.codes ?? rows[0]!.outcome?.codes;
        if (codes && codes[0] !== null) throw new Error(`${name}: refused ${codes[0]}`);
        stream.version += 1;
      };
      for (let i = 0; i < 200; i++) await call(i); // warm-up: plans made, streams created
      const ns0 = schedNs(pid);
      for (let i = 0; i < calls; i++) await call(i);
      const us = (schedNs(pid) - ns0) / 1000 / calls;
      perName.get(name)!.push(us);
      await client.end();
    }
  }
  console.log(
    `load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}, ${calls} calls a round, synchronous_commit=${commit}`,
  );
  for (const [name, us] of perName) {
    const sorted = [...us].sort((a, b) => a - b);
    console.log(
      `${name.padEnd(16)} server µs per call: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)}  rounds ${us.map((u) => u.toFixed(0)).join(" ")}`,
    );
  }
} catch (error) {
  // Told here: dropping the database below fails while a connection of the failed round is open.
  console.error(error);
  throw error;
} finally {
  await database.drop();
}
