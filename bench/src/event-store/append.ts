// Event store appends (issue 4): our event store against Emmett's PostgreSQL event store, on the
// PostgreSQL server of this machine, in one run, alternating which store goes first.
//
//   npm run event-store-append -w @sluice/bench [-- --reps 5 --single 2000 --hundred 200 --writers 32
//     --seconds 5 --small 100000 --large 10000000 --size-appends 2000 --phases compare,size
//     --stores sluice,emmett --size-stores sluice,emmett --synchronous-commit on]
//
// --stores sluice,emmett,floor adds the floor: an append's rows inserted by one statement, no store.
// --stores sluice,sluice-before,emmett --before-tree <dir> adds ours as an earlier commit has it,
// from a copy of the repository at that commit (before and after in one run), e.g.
//   mkdir /tmp/before && git archive <commit> | tar -x -C /tmp/before && cp -a node_modules /tmp/before/
// Each workload also reports CPU per append (this process, and the store's PostgreSQL backends):
// on a shared machine it moves far less with the load than latency. --workloads narrows the run
// (e.g. single, to profile one with node --cpu-prof).
//
// compare: single-event appends in sequence (latency, and appends/s on one connection), 100-event
//   appends in sequence (latency), and 32 concurrent writers on distinct streams (appends/s).
// size: single-event append latency at --small and at --large stored events (bulk-filled, see fill.ts),
//   appending to random streams of the filled history.
// Results: bench/results/event-store-append.json; chart: npm run event-store-chart -w @sluice/bench.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { pidCpuMs, processCpuMs } from "../cpuTime";
import { backendPids, onDatabase, serverSettings } from "./databases";
import { bulkFill, eventsPerFilledStream } from "./fill";
import { percentiles } from "../percentiles";
import { knownStores, openStore, storesInTurn, type BenchStore, type StoreName } from "./stores";
import { concurrentAppends, filledStreamId, freshStreams, sequentialAppends, type Sample } from "./workloads";

const { values: args } = parseArgs({
  options: {
    reps: { type: "string", default: "5" },
    single: { type: "string", default: "2000" },
    hundred: { type: "string", default: "200" },
    writers: { type: "string", default: "32" },
    seconds: { type: "string", default: "5" },
    small: { type: "string", default: "100000" },
    large: { type: "string", default: "10000000" },
    "size-appends": { type: "string", default: "2000" },
    stores: { type: "string", default: "sluice,emmett" },
    "size-stores": { type: "string", default: "sluice,emmett" },
    phases: { type: "string", default: "compare,size" },
    "synchronous-commit": { type: "string", default: "on" },
    "before-tree": { type: "string" },
    workloads: { type: "string", default: "single,hundred,concurrent" },
  },
});
const count = (name: keyof typeof args) => {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
};
const reps = count("reps");
const singleAppends = count("single");
const hundredAppends = count("hundred");
const writers = count("writers");
const seconds = count("seconds");
const small = count("small");
const large = count("large");
const sizeAppends = count("size-appends");
const commit = args["synchronous-commit"];
if (commit !== "on" && commit !== "off") throw new Error("--synchronous-commit is on or off");
const phases = new Set(args.phases.split(","));
const sizeStores = args["size-stores"].split(",") as StoreName[];
if (small % eventsPerFilledStream || large % eventsPerFilledStream || large <= small)
  throw new Error(`--small < --large, both multiples of ${eventsPerFilledStream}`);

const log = (line: string) => console.error(`${new Date().toISOString().slice(11, 19)} ${line}`);
const loadSamples: { at: string; phase: string; load1: number; load5: number }[] = [];
function noteLoad(phase: string) {
  const [load1 = 0, load5 = 0] = loadavg();
  loadSamples.push({ at: new Date().toISOString(), phase, load1, load5 });
}

interface Measured {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly appendsPerSecond: number;
  readonly samples: number;
}
const summary = (sample: Sample): Measured => {
  const { p50 = NaN, p90 = NaN, p99 = NaN, p100 = NaN } = percentiles(sample.latenciesMs, [50, 90, 99, 100]);
  return { p50, p90, p99, max: p100, appendsPerSecond: sample.appendsPerSecond, samples: sample.latenciesMs.length };
};
const round = (value: number, digits = 3) => Number(value.toFixed(digits));
const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** CPU per append call, in microseconds: this process's (the store's client), and the store's PostgreSQL backends'. */
interface CpuPerAppend {
  readonly nodeUs: number;
  readonly postgresUs: number;
}
type Measurement = Sample & { readonly cpu: CpuPerAppend };

/**
 * Runs a workload and counts the CPU it used, which the machine's load changes far less than
 * wall-clock time: this process's (every thread), and that of the backends serving the store's
 * database at the end (/proc, 10 ms ticks), all of it for those started meanwhile (a pool replaces
 * the connections it closed after 10 s idle). A backend that ended meanwhile is not counted.
 */
async function measured(store: BenchStore, run: () => Promise<Sample>): Promise<Measurement> {
  const backendsCpu = async () => {
    const cpu = new Map<number, number>();
    for (const pid of await backendPids(store.database.name)) {
      try {
        cpu.set(pid, pidCpuMs(pid));
      } catch {
        // Ended since it was listed.
      }
    }
    return cpu;
  };
  const before = await backendsCpu();
  const node0 = processCpuMs();
  const sample = await run();
  const nodeMs = processCpuMs() - node0;
  let postgresMs = 0;
  for (const [pid, ms] of await backendsCpu()) postgresMs += ms - (before.get(pid) ?? 0);
  const perAppend = (ms: number) => round((ms * 1000) / Math.max(1, sample.made), 0);
  return { ...sample, cpu: { nodeUs: perAppend(nodeMs), postgresUs: perAppend(postgresMs) } };
}

/** CPU per append as the median of the repetitions, and each repetition's. */
const pooledCpu = (samples: readonly Measurement[]): CpuPerAppend & { byRep: CpuPerAppend[] } => ({
  nodeUs: median(samples.map((s) => s.cpu.nodeUs)),
  postgresUs: median(samples.map((s) => s.cpu.postgresUs)),
  byRep: samples.map((s) => s.cpu),
});

/** All repetitions' latencies pooled for the percentiles; appends/s as the median of the repetitions. */
function pooled(samples: readonly Sample[]): Measured & { appendsPerSecondByRep: number[] } {
  const all = summary({ latenciesMs: samples.flatMap((s) => s.latenciesMs), appendsPerSecond: 0, made: 0 });
  const rates = samples.map((s) => s.appendsPerSecond);
  return {
    ...all,
    appendsPerSecond: round(median(rates), 0),
    appendsPerSecondByRep: rates.map((r) => round(r, 0)),
    p50: round(all.p50),
    p90: round(all.p90),
    p99: round(all.p99),
    max: round(all.max),
  };
}
const storeNames = args.stores.split(",") as StoreName[];
for (const name of [...storeNames, ...sizeStores])
  if (!knownStores.includes(name)) throw new Error(`unknown store ${name}: ${knownStores.join(", ")}`);
if (!storeNames.includes("sluice") || !storeNames.includes("emmett"))
  throw new Error("--stores must name sluice and emmett");
const open = (name: StoreName) => openStore(name, commit, args["before-tree"]);

const results: Record<string, unknown> = {
  synchronousCommit: commit,
  date: new Date().toISOString(),
  machine: {
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
  },
  server: await serverSettings(),
  parameters: { reps, singleAppends, hundredAppends, writers, seconds, small, large, sizeAppends },
  load: loadSamples,
};

type Workload = "single" | "hundred" | "concurrent";
const workloads: Record<Workload, (store: BenchStore) => Promise<Sample>> = {
  single: (store) => sequentialAppends(store, singleAppends, 1),
  hundred: (store) => sequentialAppends(store, hundredAppends, 100, freshStreams(20)),
  concurrent: (store) => concurrentAppends(store, writers, 1, seconds),
};
const chosen = args.workloads.split(",") as Workload[];
for (const w of chosen)
  if (!(w in workloads)) throw new Error(`unknown workload ${w}: ${Object.keys(workloads).join(", ")}`);

if (phases.has("compare")) {
  const stores = {} as Record<StoreName, BenchStore>;
  try {
    for (const name of storeNames) stores[name] = await open(name);
    log("warm-up (discarded)");
    for (const name of storeNames) {
      if (chosen.includes("single")) await sequentialAppends(stores[name], 500, 1);
      if (chosen.includes("hundred")) await sequentialAppends(stores[name], 20, 100, freshStreams(5));
      if (chosen.includes("concurrent")) await concurrentAppends(stores[name], writers, 0, 1);
    }
    const samples = Object.fromEntries(
      storeNames.map((name) => [name, { single: [], hundred: [], concurrent: [] }]),
    ) as unknown as Record<StoreName, Record<Workload, Measurement[]>>;
    for (let rep = 1; rep <= reps; rep++) {
      for (const workload of chosen) {
        for (const name of storesInTurn(rep, storeNames)) {
          noteLoad(`compare ${workload} ${name} rep ${rep}`);
          const sample = await measured(stores[name], () => workloads[workload](stores[name]));
          samples[name][workload].push(sample);
          const s = summary(sample);
          log(
            `rep ${rep}/${reps} ${workload.padEnd(10)} ${name.padEnd(6)} p50 ${s.p50.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms  ` +
              `${s.appendsPerSecond.toFixed(0)} appends/s  CPU/append: node ${sample.cpu.nodeUs} us + postgres ` +
              `${sample.cpu.postgresUs} us  (load ${loadavg()[0]!.toFixed(1)})`,
          );
        }
      }
    }
    const compare = Object.fromEntries(
      storeNames.map((name) => [
        name,
        Object.fromEntries(chosen.map((w) => [w, { ...pooled(samples[name][w]), cpu: pooledCpu(samples[name][w]) }])),
      ]),
    ) as Record<
      StoreName,
      Partial<Record<Workload, ReturnType<typeof pooled> & { cpu: ReturnType<typeof pooledCpu> }>>
    >;
    // Ours divided by Emmett's: below 1 is better for latency, above 1 is better for appends/s (NaN,
    // written as null, for a workload not run).
    const ratios = (ours: StoreName) => {
      const ratio = (w: Workload, key: "p50" | "p99" | "appendsPerSecond") =>
        round((compare[ours][w]?.[key] ?? NaN) / (compare.emmett[w]?.[key] ?? NaN), 2);
      const single = (name: StoreName) =>
        (compare[name].single?.cpu.nodeUs ?? NaN) + (compare[name].single?.cpu.postgresUs ?? NaN);
      return {
        singleP50: ratio("single", "p50"),
        singleP99: ratio("single", "p99"),
        hundredP50: ratio("hundred", "p50"),
        hundredP99: ratio("hundred", "p99"),
        concurrentAppendsPerSecond: ratio("concurrent", "appendsPerSecond"),
        sequentialAppendsPerSecond: ratio("single", "appendsPerSecond"),
        // CPU per append (client + server) of the sequential single-event appends.
        singleCpu: round(single(ours) / single("emmett"), 2),
      };
    };
    results.compare = {
      ...compare,
      ratiosToEmmett: Object.fromEntries(storeNames.filter((n) => n !== "emmett").map((n) => [n, ratios(n)])),
    };
  } finally {
    for (const store of Object.values(stores)) await store.close();
  }
  write();
}

if (phases.has("size")) {
  const stores = {} as Record<StoreName, BenchStore>;
  const size: Record<string, unknown> = {};
  try {
    for (const name of sizeStores) stores[name] = await open(name);
    let stored = 0;
    // Each store appends to the same random streams of the filled history, at their exact version.
    const versions = Object.fromEntries(sizeStores.map((name) => [name, new Map<string, bigint>()]));
    for (const target of [small, large]) {
      // The stores fill at once, each on a connection of its own (the fill is CPU-bound).
      noteLoad(`fill to ${target}`);
      await Promise.all(
        sizeStores.map(async (name) => {
          log(`filling ${name} from ${stored.toLocaleString("en")} to ${target.toLocaleString("en")} events`);
          const fillStarted = performance.now();
          await onDatabase(stores[name].database.url, (client) =>
            bulkFill(client, name, stored, target, (done, rate) =>
              log(`  ${name} ${done.toLocaleString("en")} events (${rate.toFixed(0)} events/s)`),
            ),
          );
          size[`${name}FillSecondsTo${target}`] = round((performance.now() - fillStarted) / 1000, 1);
        }),
      );
      stored = target;
      const streamCount = target / eventsPerFilledStream;
      const picks = Array.from({ length: sizeAppends + 200 }, () =>
        filledStreamId(Math.floor(Math.random() * streamCount)),
      );
      const samples = Object.fromEntries(sizeStores.map((name) => [name, [] as Sample[]]));
      const perRep = Math.ceil(sizeAppends / reps);
      for (let rep = 0; rep <= reps; rep++) {
        // Rep 0 is the warm-up, discarded.
        const slice = rep === 0 ? picks.slice(0, 200) : picks.slice(200 + (rep - 1) * perRep, 200 + rep * perRep);
        for (const name of storesInTurn(rep + 1, sizeStores)) {
          noteLoad(`size ${target} ${name} rep ${rep}`);
          const latenciesMs: number[] = [];
          for (const streamId of slice) {
            const version = versions[name]!.get(streamId) ?? BigInt(eventsPerFilledStream);
            const t0 = performance.now();
            await stores[name].append(streamId, version, 1);
            latenciesMs.push(performance.now() - t0);
            versions[name]!.set(streamId, version + 1n);
          }
          if (rep > 0) samples[name]!.push({ latenciesMs, appendsPerSecond: 0, made: latenciesMs.length });
          const s = summary({ latenciesMs, appendsPerSecond: 0, made: latenciesMs.length });
          log(
            `size ${target.toLocaleString("en")} rep ${rep}/${reps} ${name.padEnd(6)} p50 ${s.p50.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms`,
          );
        }
      }
      for (const name of sizeStores) {
        const { p50, p90, p99, max, samples: n } = pooled(samples[name]!);
        const bytes = await onDatabase(stores[name].database.url, (client) =>
          client.query<{ bytes: string }>("select pg_database_size(current_database())::text as bytes"),
        );
        size[`${name}At${target}`] = {
          p50,
          p90,
          p99,
          max,
          samples: n,
          databaseMiB: round(Number(bytes.rows[0]?.bytes) / 2 ** 20, 0),
        };
      }
      results.size = size;
      write();
    }
    for (const name of sizeStores) {
      const atSmall = size[`${name}At${small}`] as Measured;
      const atLarge = size[`${name}At${large}`] as Measured;
      size[`${name}P99LargeOverSmall`] = round(atLarge.p99 / atSmall.p99, 2);
    }
  } finally {
    for (const store of Object.values(stores)) await store.close();
  }
  write();
}

/** One file for all runs: this run replaces the entry for its phases and commit mode, and keeps the others. */
function write() {
  const out = new URL("../../results/", import.meta.url);
  const file = new URL("event-store-append.json", out);
  mkdirSync(out, { recursive: true });
  const runs = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>) : {};
  const filledTo = phases.has("size") ? ` ${sizeStores.join("+")} to ${large}` : "";
  runs[`${[...phases].join("+")}${filledTo} synchronous_commit=${commit}`] = results;
  writeFileSync(file, `${JSON.stringify(runs, null, 2)}\n`);
  log("wrote bench/results/event-store-append.json");
}
