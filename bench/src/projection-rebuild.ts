// Projection rebuild (issue 4): a Dispatch-like log of N events, then the Dispatch read models
// (`dispatch.read-models`, all four in one projection) rebuilt from zero beside the live ones and
// swapped in, on the PostgreSQL server of this machine and on PGlite; events/s per page size.
//
//   npm run projection-rebuild -w @sluice/bench [-- --events 200000 --page-sizes 1000,5000,20000
//     --backends postgres,pglite --pglite-events 50000 --reps 2 --breakdown --max-page-ms 50]
//
// --breakdown: then, at the default page size, where the time goes: a projection that writes
// nothing (reading, decoding and the checkpoint alone), and each of Dispatch's read models alone.
// --database URL: a PostgreSQL database to use and keep (filled only when its log is empty), so
// that runs before and after a change rebuild the same log; without it, a fresh one, dropped after.
//
// CPU per event as well as events/s (the machine is shared, so wall-clock rates move with its load):
// this process's, and on PostgreSQL that of the database's backends (from /proc: the server runs here).
//
// Results: bench/results/projection-rebuild.json.
import { randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { migrate, openDatabase, type Database } from "@sluice/database";
import { createDispatchModule, dispatchProjections } from "@sluice/dispatch";
import { createEventStore, rebuildProjection, startProjection, type Projection } from "@sluice/event-store";
import { fillDispatchLog } from "../../apps/server/src/cli/dispatchHistory";
import { postgresCpuMs, processCpuMs } from "./cpuTime";
import { createFreshDatabase, serverSettings } from "./event-store/databases";

const { values: args } = parseArgs({
  options: {
    events: { type: "string", default: "200000" },
    "pglite-events": { type: "string", default: "50000" },
    "page-sizes": { type: "string", default: "1000,5000,20000" },
    backends: { type: "string", default: "postgres,pglite" },
    reps: { type: "string", default: "2" },
    breakdown: { type: "boolean", default: false },
    "max-page-ms": { type: "string", default: "50" },
    database: { type: "string" },
  },
});
const positive = (name: keyof typeof args) => {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
};
const pageSizes = args["page-sizes"].split(",").map(Number);
if (pageSizes.some((size) => !Number.isInteger(size) || size < 1)) throw new Error("--page-sizes: positive integers");
const backends = args.backends.split(",");
if (backends.some((b) => b !== "postgres" && b !== "pglite")) throw new Error("--backends: postgres, pglite");
const reps = positive("reps");
const maxPageMs = positive("max-page-ms");

const log = (line: string) => console.error(`${new Date().toISOString().slice(11, 19)} ${line}`);

interface RebuildRun {
  readonly backend: string;
  readonly maxPageMs: number;
  readonly projection: string;
  readonly events: number;
  readonly pageSize: number;
  readonly rep: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  /** CPU microseconds per event: of this process, and of the PostgreSQL backends (null on PGlite). */
  readonly cpuUsPerEvent: { readonly node: number; readonly postgres: number | null };
  readonly load1: number;
}
const runs: RebuildRun[] = [];

/** Runs `body` (a rebuild), with the CPU it cost per event it reports. */
async function withCpu<T extends { events: number }>(
  databaseName: string | undefined,
  body: () => Promise<T>,
): Promise<[T, RebuildRun["cpuUsPerEvent"]]> {
  const node0 = processCpuMs();
  const pg0 = databaseName === undefined ? undefined : postgresCpuMs(databaseName);
  const result = await body();
  const pg1 = databaseName === undefined ? undefined : postgresCpuMs(databaseName);
  const perEvent = (ms: number) => Number(((ms * 1000) / Math.max(1, result.events)).toFixed(1));
  return [
    result,
    {
      node: perEvent(processCpuMs() - node0),
      // A backend that ended meanwhile (a pool closing an idle connection) took its CPU with it: no figure.
      postgres: pg0 === undefined || pg1 === undefined || pg1 < pg0 ? null : perEvent(pg1 - pg0),
    },
  ];
}

async function measure(backend: string, db: Database, events: number, databaseName?: string): Promise<void> {
  const store = await createEventStore(db);
  const dispatch = createDispatchModule({ db, store });
  await migrate(db, dispatch.migrations);
  const organizations = Array.from({ length: 10 }, () => randomUUID());
  const { rows } = await db.query<{ n: bigint }>("select count(*) as n from events");
  const inLog = Number(rows[0]!.n);
  const filled =
    inLog > 0
      ? inLog
      : await fillDispatchLog(store, organizations, events, backend === "pglite" ? 8 : 32, (done, rate) =>
          log(
            `  fill ${backend}: ${done.toLocaleString("en")} / ${events.toLocaleString("en")} events, ${Math.round(rate).toLocaleString("en")}/s`,
          ),
        );
  log(`${backend}: ${filled.toLocaleString("en")} events in the log; live projection catching up`);
  // The live projection runs throughout, as on a server: the rebuild swaps in under it.
  const live = await startProjection(db, store, dispatch.readModels);
  const caughtUpStarted = performance.now();
  await live.caughtUp();
  log(`${backend}: live projection caught up in ${((performance.now() - caughtUpStarted) / 1000).toFixed(1)} s`);
  try {
    for (let rep = 1; rep <= reps; rep++) {
      for (const pageSize of pageSizes) {
        const [load1 = 0] = loadavg();
        const [result, cpuUsPerEvent] = await withCpu(databaseName, () =>
          rebuildProjection(db, store, dispatch.readModels, {
            pageSize,
            maxPageMs,
            onProgress: (p) =>
              p.phase === "building" &&
              process.stderr.write(
                `\r  rebuild ${backend} page ${pageSize}: ${p.eventsDone.toLocaleString("en")} / ${p.eventsTotal.toLocaleString("en")}, ${Math.round(p.eventsPerSecond).toLocaleString("en")}/s   `,
              ),
          }),
        );
        process.stderr.write("\n");
        runs.push({
          backend,
          projection: dispatch.readModels.name,
          maxPageMs,
          events: result.events,
          pageSize,
          rep,
          seconds: Number(result.seconds.toFixed(2)),
          eventsPerSecond: Math.round(result.eventsPerSecond),
          cpuUsPerEvent,
          load1,
        });
        log(
          `${backend} page ${pageSize} rep ${rep}: ${result.events.toLocaleString("en")} events in ${result.seconds.toFixed(2)} s = ${Math.round(result.eventsPerSecond).toLocaleString("en")} events/s, CPU/event ${cpuUsPerEvent.node} µs here + ${cpuUsPerEvent.postgres ?? "-"} µs PostgreSQL (load ${load1.toFixed(2)})`,
        );
      }
    }
  } finally {
    await live.stop();
  }
  if (!args.breakdown) return;
  // Each alone, the live projection stopped: a member rebuilt alone takes a checkpoint of its own,
  // which the combined projection would take over; this database is dropped after.
  const readOnly: Projection = { name: "bench.reads-only", handle: async () => {} };
  for (const projection of [readOnly, ...dispatchProjections]) {
    const [load1 = 0] = loadavg();
    const [result, cpuUsPerEvent] = await withCpu(databaseName, () =>
      rebuildProjection(db, store, projection, { maxPageMs }),
    );
    runs.push({
      backend,
      projection: projection.name,
      maxPageMs,
      events: result.events,
      pageSize: 5000,
      rep: 1,
      seconds: Number(result.seconds.toFixed(2)),
      eventsPerSecond: Math.round(result.eventsPerSecond),
      cpuUsPerEvent,
      load1,
    });
    log(
      `${backend} ${projection.name} alone: ${Math.round(result.eventsPerSecond).toLocaleString("en")} events/s, CPU/event ${cpuUsPerEvent.node} µs here + ${cpuUsPerEvent.postgres ?? "-"} µs PostgreSQL (load ${load1.toFixed(2)})`,
    );
  }
}

for (const backend of backends) {
  if (backend === "postgres" && args.database) {
    const db = await openDatabase({ kind: "postgres", url: args.database });
    try {
      await measure(backend, db, positive("events"), new URL(args.database).pathname.slice(1));
    } finally {
      await db.close();
    }
  } else if (backend === "postgres") {
    const fresh = await createFreshDatabase("rebuildbench");
    const db = await openDatabase({ kind: "postgres", url: fresh.url });
    try {
      await measure(backend, db, positive("events"), fresh.name);
    } finally {
      await db.close();
      await fresh.drop();
    }
  } else {
    const db = await openDatabase({ kind: "pglite" });
    try {
      await measure(backend, db, positive("pglite-events"));
    } finally {
      await db.close();
    }
  }
}

const results = { at: new Date().toISOString(), settings: await serverSettings(), runs };
mkdirSync(new URL("../results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL(`../results/projection-rebuild${args.breakdown ? "-breakdown" : ""}.json`, import.meta.url),
  `${JSON.stringify(results, null, 2)}\n`,
);
console.log(JSON.stringify(runs, null, 2));
