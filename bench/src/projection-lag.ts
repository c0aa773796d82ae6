// Live projection lag (issue 4): the time from an append's commit to the projection's rows for
// it being committed (visible to queries), at a steady append rate, for Dispatch's read models
// (`dispatch.read-models`) on the PostgreSQL server of this machine and on PGlite.
//
//   npm run projection-lag -w @sluice/bench [-- --rates 200,1000 --seconds 10 --backends postgres,pglite
//     --wake in-process,other-process --during-rebuild 0]
//
// wake in-process: the projector is in the appending process and is woken by its appends (the
//   embedded shape, or a domain service running its own projector).
// wake other-process (PostgreSQL only): the projector's store is on a pool of its own, as in
//   another process (the scale-out projector): the appending store's word through the database
//   (NOTIFY after its commits, `logSignal.ts`) wakes it, and it polls the log every --poll-ms (the
//   store's default on a server: 500) for what that misses.
// --during-rebuild N: a log of N Dispatch-like events is filled first and the projection is
//   rebuilt (beside it, then swapped) while the lag is measured: is the live consumer starved?
//   On PostgreSQL by the rebuild command in a process of its own; on PGlite in this process.
// Results: bench/results/projection-lag.json.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs, promisify } from "node:util";
import { create } from "@bufbuild/protobuf";
import { CommandAcceptedSchema } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { OrderCreatedSchema, ProjectCreatedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { migrate, openDatabase, type Database } from "@sluice/database";
import { createDispatchModule, orderStreamId, projectStreamId, streamTypes } from "@sluice/dispatch";
import { createEventStore, rebuildProjection, startProjection, type EventStore } from "@sluice/event-store";
import { fillDispatchLog } from "../../apps/server/src/cli/dispatchHistory";
import { createFreshDatabase, serverSettings } from "./event-store/databases";
import { percentiles } from "./percentiles";

const { values: args } = parseArgs({
  options: {
    rates: { type: "string", default: "200,1000" },
    seconds: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    backends: { type: "string", default: "postgres,pglite" },
    wake: { type: "string", default: "in-process,other-process" },
    "during-rebuild": { type: "string", default: "0" },
    "rebuild-page-size": { type: "string", default: "5000" },
    "rebuild-max-page-ms": { type: "string", default: "50" },
    "poll-ms": { type: "string", default: "500" },
  },
});
const list = (name: "rates" | "backends" | "wake") => args[name].split(",").filter(Boolean);
const rates = list("rates").map(Number);
const seconds = Number(args.seconds);
const warmup = Number(args.warmup);
const duringRebuild = Number(args["during-rebuild"]);
const rebuildPageSize = Number(args["rebuild-page-size"]);
const pollMs = Number(args["poll-ms"]);
const rebuildMaxPageMs = Number(args["rebuild-max-page-ms"]);
if (rates.some((r) => !(r > 0)) || !(seconds > 0) || !(warmup >= 0) || !(duringRebuild >= 0) || !(rebuildPageSize >= 1))
  throw new Error("--rates, --seconds, --rebuild-page-size: positive numbers; --warmup, --during-rebuild: 0 or more");
for (const backend of list("backends"))
  if (backend !== "postgres" && backend !== "pglite") throw new Error("--backends: postgres, pglite");
for (const wake of list("wake"))
  if (wake !== "in-process" && wake !== "other-process") throw new Error("--wake: in-process, other-process");

const runFile = promisify(execFile);
const root = new URL("../..", import.meta.url).pathname;
const log = (line: string) => console.error(`${new Date().toISOString().slice(11, 19)} ${line}`);

interface LagRun {
  readonly backend: string;
  readonly wake: string;
  readonly rate: number;
  readonly duringRebuild: number;
  readonly appendsPerSecond: number;
  readonly samples: number;
  readonly lagMs: Record<string, number>;
  readonly appendMs: Record<string, number>;
  readonly rebuild?: {
    readonly maxPageMs: number;
    readonly events: number;
    readonly seconds: number;
    readonly finishedInWindow: boolean;
  };
  readonly load1: number;
}
const runs: LagRun[] = [];

/**
 * Appends one OrderCreated per command at `rate`/s (open loop: on schedule, whether or not earlier
 * ones are done) for warmup + seconds; returns lag and append latency of those committed after warm-up.
 */
async function measureLag(
  appendStore: EventStore,
  projectorDb: Database,
  projectorStore: EventStore,
  rate: number,
  /** Resolves when its swap has committed: events applied by the rebuild, not the live consumer, are visible from then. */
  background?: () => Promise<unknown>,
): Promise<{ lag: number[]; append: number[]; achieved: number; backgroundDone: boolean }> {
  const dispatch = createDispatchModule({ db: projectorDb, store: projectorStore });
  const organizationId = randomUUID();
  const projectId = randomUUID();
  const committedAt = new Map<bigint, number>();
  const seenAt = new Map<bigint, number>();
  const live = await startProjection(projectorDb, projectorStore, dispatch.readModels, {
    async afterCommit(events) {
      const now = performance.now();
      for (const event of events) if (event.organizationId === organizationId) seenAt.set(event.globalPosition, now);
    },
  });
  await live.caughtUp();
  const command = () => {
    const commandId = randomUUID();
    return {
      organizationId,
      metadata: { userId: "u", commandId, correlationId: commandId },
      result: create(CommandAcceptedSchema, {}),
    };
  };
  await appendStore.append({
    ...command(),
    appends: [
      {
        streamId: projectStreamId(projectId),
        streamType: streamTypes.project,
        expectedVersion: "no_stream",
        events: [create(ProjectCreatedSchema, { projectId, name: "Lag" })],
      },
    ],
  });

  const append: number[] = [];
  let measuredAppends = 0;
  const start = performance.now();
  const measureFrom = start + warmup * 1000;
  const end = measureFrom + seconds * 1000;
  const inFlight: Promise<void>[] = [];
  let sent = 0;
  let backgroundDone = false;
  let swappedAt: number | undefined;
  const backgroundRun = background?.().then(() => {
    swappedAt = performance.now();
    backgroundDone = swappedAt < end;
  });
  while (performance.now() < end) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    for (; sent < due; sent++) {
      const orderId = randomUUID();
      const t0 = performance.now();
      inFlight.push(
        appendStore
          .append({
            ...command(),
            appends: [
              {
                streamId: orderStreamId(orderId),
                streamType: streamTypes.order,
                expectedVersion: "no_stream",
                events: [
                  create(OrderCreatedSchema, {
                    orderId,
                    projectId,
                    consignee: "ACME",
                    address: "Quay 1",
                    weightKg: 100,
                  }),
                ],
              },
            ],
          })
          .then(({ lastGlobalPosition }) => {
            const t1 = performance.now();
            if (t0 >= measureFrom) {
              committedAt.set(lastGlobalPosition, t1);
              append.push(t1 - t0);
              measuredAppends += 1;
            }
          }),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  await live.caughtUp();
  await live.stop();
  await backgroundRun;
  // Seen before the append's promise settled (the projector can be that quick): lag 0.
  // An event the rebuild applied and the live consumer never saw (it continued after it) became
  // visible at the swap (a little before swappedAt, which also counts dropping the old tables).
  const lag = [...committedAt].map(([position, at]) =>
    Math.max(0, (seenAt.get(position) ?? (swappedAt !== undefined && at <= swappedAt ? swappedAt : Number.NaN)) - at),
  );
  if (lag.some(Number.isNaN)) throw new Error("an appended event never reached the projection");
  return { lag, append, achieved: measuredAppends / seconds, backgroundDone };
}

async function openBackend(
  backend: string,
): Promise<{ db: Database; url?: string; other: () => Promise<Database>; close(): Promise<void> }> {
  if (backend === "pglite") {
    const db = await openDatabase({ kind: "pglite" });
    return { db, other: async () => db, close: () => db.close() };
  }
  const fresh = await createFreshDatabase("lagbench");
  const opened: Database[] = [];
  const open = async () => {
    const db = await openDatabase({ kind: "postgres", url: fresh.url });
    opened.push(db);
    return db;
  };
  const db = await open();
  return {
    db,
    url: fresh.url,
    other: open,
    async close() {
      for (const each of opened) await each.close();
      await fresh.drop();
    },
  };
}

for (const backend of list("backends")) {
  const opened = await openBackend(backend);
  try {
    const store = await createEventStore(opened.db);
    const dispatch = createDispatchModule({ db: opened.db, store });
    await migrate(opened.db, dispatch.migrations);
    if (duringRebuild > 0) {
      await fillDispatchLog(store, [randomUUID()], duringRebuild, backend === "pglite" ? 8 : 32, (done, rate) =>
        log(
          `  fill ${backend}: ${done.toLocaleString("en")} / ${duringRebuild.toLocaleString("en")} events, ${Math.round(rate)}/s`,
        ),
      );
      const catchUp = await startProjection(opened.db, store, dispatch.readModels);
      await catchUp.caughtUp();
      await catchUp.stop();
    }
    // PGlite has one process: nothing appends there that the projector's own store does not hear of.
    for (const wake of list("wake").filter((wake) => backend === "postgres" || wake === "in-process")) {
      for (const rate of rates) {
        const projectorDb = wake === "other-process" ? await opened.other() : opened.db;
        const projectorStore =
          wake === "other-process" ? await createEventStore(projectorDb, { pollIntervalMs: pollMs }) : store;
        let rebuilt: LagRun["rebuild"];
        const background =
          duringRebuild > 0
            ? async () => {
                // After warm-up, so the rebuild overlaps the measured window.
                await new Promise((resolve) => setTimeout(resolve, warmup * 1000));
                const started = performance.now();
                if (opened.url) {
                  // On a server the rebuild is the command, a process of its own, as an operator runs it.
                  const { stdout } = await runFile(
                    process.execPath,
                    [
                      "--import",
                      "tsx",
                      "apps/server/src/cli/rebuild.ts",
                      dispatch.readModels.name,
                      "--database",
                      opened.url,
                      "--page-size",
                      String(rebuildPageSize),
                      "--max-page-ms",
                      String(rebuildMaxPageMs),
                    ],
                    { cwd: root },
                  );
                  const events = Number(/: ([\d,]+) events in/.exec(stdout)?.[1]?.replaceAll(",", "") ?? Number.NaN);
                  rebuilt = {
                    maxPageMs: rebuildMaxPageMs,
                    events,
                    seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
                    finishedInWindow: false,
                  };
                  return;
                }
                // PGlite: one process, so in the projector's, as a running embedded server would.
                const result = await rebuildProjection(opened.db, store, dispatch.readModels, {
                  pageSize: rebuildPageSize,
                  maxPageMs: rebuildMaxPageMs,
                });
                rebuilt = {
                  maxPageMs: rebuildMaxPageMs,
                  events: result.events,
                  seconds: Number(result.seconds.toFixed(2)),
                  finishedInWindow: false,
                };
              }
            : undefined;
        const [load1 = 0] = loadavg();
        const { lag, append, achieved, backgroundDone } = await measureLag(
          store,
          projectorDb,
          projectorStore,
          rate,
          background,
        );
        if (rebuilt) rebuilt = { ...rebuilt, finishedInWindow: backgroundDone };
        const pick = (values: number[]) =>
          Object.fromEntries(
            Object.entries(percentiles(values, [50, 90, 99, 100])).map(([k, v]) => [
              k === "p100" ? "max" : k,
              Number(v.toFixed(2)),
            ]),
          );
        const run: LagRun = {
          backend,
          wake,
          ...(wake === "other-process" && { pollMs }),
          rate,
          duringRebuild,
          appendsPerSecond: Math.round(achieved),
          samples: lag.length,
          lagMs: pick(lag),
          appendMs: pick(append),
          ...(rebuilt && { rebuild: rebuilt }),
          load1: Number(load1.toFixed(2)),
        };
        runs.push(run);
        log(
          `${backend} ${wake} ${rate}/s${duringRebuild ? ` during a rebuild of ${duringRebuild.toLocaleString("en")}` : ""}: lag p50 ${run.lagMs.p50} ms, p99 ${run.lagMs.p99} ms, max ${run.lagMs.max} ms (append p99 ${run.appendMs.p99} ms, ${run.appendsPerSecond}/s achieved, load ${run.load1})`,
        );
      }
    }
  } finally {
    await opened.close();
  }
}

const variant =
  duringRebuild > 0 ? "-during-rebuild" : list("wake").join("") === "other-process" ? "-other-process" : "";
const file = new URL(`../results/projection-lag${variant}.json`, import.meta.url);
mkdirSync(new URL("../results/", import.meta.url), { recursive: true });
writeFileSync(
  file,
  `${JSON.stringify({ at: new Date().toISOString(), settings: await serverSettings(), runs }, null, 2)}\n`,
);
console.log(JSON.stringify(runs, null, 2));
