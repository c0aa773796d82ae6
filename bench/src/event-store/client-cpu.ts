// Where a single append's client CPU goes (issue 4, decision 0014): the same appends measured three
// ways, CPU of this process per append (process.cpuUsage, every thread):
//
//   store:  our store over a database that answers append_commands at once with a canned row (the
//           rest, migrations and keys, goes to the real one): the store's own code alone;
//   pool:   the statement the store sent, with a fresh command and stream each time, through
//           openDatabase's pool (what the store pays the driver);
//   client: the same through one bare pg.Client: the driver and the socket without the pool.
//
//   npx tsx src/event-store/client-cpu.ts [--appends 5000 --reps 3 --synchronous-commit on]
import { randomUUID } from "node:crypto";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { CommandAcceptedSchema } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { openDatabase, type Database, type QueryOptions } from "@sluice/database";
import { createEventStore } from "@sluice/event-store";
import pg from "pg";
import { processCpuMs } from "../cpuTime";
import { createFreshDatabase, withSynchronousCommit, type SynchronousCommit } from "./databases";
import { openSluice, orderCreated } from "./stores";
import { freshStreams } from "./workloads";

const { values: args } = parseArgs({
  options: {
    appends: { type: "string", default: "5000" },
    reps: { type: "string", default: "3" },
    "synchronous-commit": { type: "string", default: "on" },
  },
});
const appends = Number(args.appends);
const reps = Number(args.reps);
const commit = args["synchronous-commit"];
if (commit !== "on" && commit !== "off") throw new Error("--synchronous-commit is on or off");

/** CPU of this process per call of `once`, in µs, over `appends` calls in sequence. */
async function cpuPerCall(once: (i: number) => Promise<unknown>): Promise<number> {
  const before = processCpuMs();
  for (let i = 0; i < appends; i++) await once(i);
  return Math.round(((processCpuMs() - before) * 1000) / appends);
}

const database = await createFreshDatabase("esbench_clientcpu");
const url = withSynchronousCommit(database.url, commit as SynchronousCommit);
const real = await openDatabase({ kind: "postgres", url });
/** The last append_commands the store sent. */
let sent: { sql: string; params: unknown[] } | undefined;
// The store's own code: append_commands answered at once, everything else by the real database.
const instant: Database = {
  ...real,
  async query<R>(sql: string, params: readonly unknown[] = [], options?: QueryOptions) {
    if (!sql.startsWith("select * from append_commands(")) return real.query<R>(sql, params, options);
    sent = { sql, params: [...params] };
    const row = {
      codes: [null],
      details: [null],
      versions: ["1"],
      positions: ["1"],
      event_ids: [randomUUID()],
      transaction_id: 1n,
      occurred_at: new Date(),
      stored_keys: null,
    };
    return { rows: [row as R] };
  },
};
const store = await createEventStore(instant);
const streamIds = [...freshStreams(100).keys()];
const appendToInstant = (i: number) => {
  const streamId = streamIds[i % streamIds.length]!;
  return store.append({
    organizationId: "org-bench",
    metadata: { userId: "user-1", commandId: randomUUID(), correlationId: randomUUID() },
    appends: [{ streamId, streamType: "dispatch.order", expectedVersion: "any", events: [orderCreated(streamId)] }],
    result: create(CommandAcceptedSchema, {}),
  });
};
await cpuPerCall(appendToInstant);
if (!sent) throw new Error("the store sent no append_commands");
const { sql, params } = sent;
/** The statement the store sent, as a new command on a new stream, so that each call appends. */
const fresh = () => Object.assign([...params], { 1: [randomUUID()], 6: [randomUUID()] });

const client = new pg.Client({ connectionString: url });
await client.connect();
// Our whole store on the real database, as the append bench measures it.
const whole = await openSluice(commit as SynchronousCommit);
const versions = new Map(streamIds.map((id) => [id, 0n]));
const appendToWhole = async (i: number) => {
  const streamId = streamIds[i % streamIds.length]!;
  const version = versions.get(streamId)!;
  await whole.append(streamId, version, 1);
  versions.set(streamId, version + 1n);
};

console.log(`client CPU per single append, µs (synchronous_commit=${commit}, ${appends} appends per figure)`);
for (let rep = 1; rep <= reps; rep++) {
  const storeCode = await cpuPerCall(appendToInstant);
  const pool = await cpuPerCall(() => real.query(sql, fresh(), { name: "append_commands" }));
  const bare = await cpuPerCall(() => client.query({ text: sql, values: fresh(), name: "append_commands" }));
  const all = await cpuPerCall(appendToWhole);
  console.log(
    `rep ${rep}: store's code ${storeCode}; statement through the pool ${pool}, on a bare pg.Client ${bare}; ` +
      `whole store ${all} (load ${loadavg()[0]!.toFixed(1)})`,
  );
}
await client.end();
await whole.close();
await real.close();
await database.drop();
