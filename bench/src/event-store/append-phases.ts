// Where a single append's time goes (issue 4), per store, from Node's side of its sockets: Node's
// work before the append's first byte leaves (building, sealing, the driver), the server and the
// kernel until the last byte of its answer arrives (round trips, statements, the commit's flush),
// and Node's work after (parsing, results, waking listeners) until the caller hears back.
//
//   npx tsx src/event-store/append-phases.ts [--stores sluice,floor,emmett --appends 3000 --reps 3
//     --before-tree <dir>, with sluice-before among the stores: see append.ts]
//
// One writer, single-event appends in sequence round robin over 100 new streams, as append.ts's
// single workload (1,000 appends of warm-up per store, not counted). The times come from wrapping
// net.Socket's write and read of every socket in the process: the first write after an append is
// called and the last read before it returns. Nothing in the stores is changed to measure them.
import net from "node:net";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { percentiles } from "../percentiles";
import { knownStores, openStore, storesInTurn, type BenchStore, type StoreName } from "./stores";
import { sequentialAppends } from "./workloads";

const { values: args } = parseArgs({
  options: {
    stores: { type: "string", default: "sluice,floor,emmett" },
    appends: { type: "string", default: "3000" },
    reps: { type: "string", default: "3" },
    "before-tree": { type: "string" },
  },
});
const appends = Number(args.appends);
const reps = Number(args.reps);
const names = args.stores.split(",") as StoreName[];
for (const name of names) if (!knownStores.includes(name)) throw new Error(`--stores: unknown store ${name}`);

// Every socket's writes (when one leaves Node for the kernel) and reads (when one reaches Node).
let lastRead = 0;
let firstWriteSince = Infinity;
let writesSince = 0;
const socket = net.Socket.prototype as unknown as {
  _writev(chunks: unknown, callback: unknown): void;
  _write(chunk: unknown, encoding: unknown, callback: unknown): void;
  push(chunk: unknown, encoding?: unknown): boolean;
};
const wrote = () => {
  if (writesSince++ === 0) firstWriteSince = performance.now();
};
const { _writev, _write, push } = socket;
socket._writev = function (chunks, callback) {
  wrote();
  return _writev.call(this, chunks, callback);
};
socket._write = function (chunk, encoding, callback) {
  wrote();
  return _write.call(this, chunk, encoding, callback);
};
socket.push = function (chunk, encoding) {
  if (chunk !== null) lastRead = performance.now();
  return push.call(this, chunk, encoding);
};

interface Phases {
  readonly before: number[];
  readonly server: number[];
  readonly after: number[];
  readonly total: number[];
  readonly writes: number[];
}

/** The store, each append's phases noted in `phases`: from its call, its sockets' first write and last read. */
function observed(store: BenchStore, phases: Phases): BenchStore {
  return {
    ...store,
    async append(streamId, expectedVersion, count) {
      writesSince = 0;
      firstWriteSince = Infinity;
      const calledAt = performance.now();
      await store.append(streamId, expectedVersion, count);
      const returnedAt = performance.now();
      if (writesSince === 0) return;
      phases.before.push((firstWriteSince - calledAt) * 1000);
      phases.server.push((lastRead - firstWriteSince) * 1000);
      phases.after.push((returnedAt - lastRead) * 1000);
      phases.total.push((returnedAt - calledAt) * 1000);
      phases.writes.push(writesSince);
    },
  };
}

for (let rep = 1; rep <= reps; rep++) {
  for (const name of storesInTurn(rep, names)) {
    const store = await openStore(name, "on", args["before-tree"]);
    try {
      await sequentialAppends(store, 1000, 1);
      const phases: Phases = { before: [], server: [], after: [], total: [], writes: [] };
      await sequentialAppends(observed(store, phases), appends, 1);
      const p50 = (values: number[]) => percentiles(values, [50]).p50!.toFixed(0).padStart(4);
      console.error(
        `${new Date().toISOString().slice(11, 19)} rep ${rep}/${reps} ${name.padEnd(6)} µs p50: ` +
          `before send ${p50(phases.before)}  server and kernel ${p50(phases.server)}  ` +
          `after answer ${p50(phases.after)}  total ${p50(phases.total)}  ` +
          `(writes per append ${(phases.writes.reduce((a, b) => a + b, 0) / phases.writes.length).toFixed(2)}, ` +
          `load ${loadavg()[0]!.toFixed(1)})`,
      );
    } finally {
      await store.close();
    }
  }
}
