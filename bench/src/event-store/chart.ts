// Draws bench/results/event-store-append.json as an SVG for docs/benchmarks.md: ours against Emmett's,
// per workload, for each commit mode measured.
//
//   npm run event-store-chart -w @sluice/bench
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

// "sluice-fix": results of 2026-11-25, when the index-lookup fix (since in the store) was measured beside it.
type StoreName = "sluice" | "sluice-fix" | "emmett";
interface Figures {
  readonly p50: number;
  readonly p99: number;
  readonly appendsPerSecond: number;
}
type Workload = "single" | "hundred" | "concurrent";
interface Run {
  readonly synchronousCommit: string;
  readonly compare?: Partial<Record<StoreName, Record<Workload, Figures>>>;
}

const runs = JSON.parse(
  readFileSync(new URL("../../results/event-store-append.json", import.meta.url), "utf8"),
) as Record<string, Run>;
const storeLabel: Record<StoreName, string> = {
  sluice: "Sluice",
  "sluice-fix": "Sluice + fix",
  emmett: "Emmett",
};

const latency: object[] = [];
const throughput: object[] = [];
for (const run of Object.values(runs)) {
  if (!run.compare) continue;
  const mode = `synchronous_commit=${run.synchronousCommit}`;
  for (const store of ["sluice", "sluice-fix", "emmett"] as const) {
    const figures = run.compare[store];
    if (!figures) continue;
    for (const [workload, label] of [
      ["single", "1 event"],
      ["hundred", "100 events"],
    ] as const) {
      for (const percentile of ["p50", "p99"] as const) {
        latency.push({
          mode,
          store: storeLabel[store],
          what: `${label} ${percentile}`,
          ms: figures[workload][percentile],
        });
      }
    }
    throughput.push(
      { mode, store: storeLabel[store], what: "1 writer, sequential", perSecond: figures.single.appendsPerSecond },
      { mode, store: storeLabel[store], what: "32 writers", perSecond: figures.concurrent.appendsPerSecond },
    );
  }
}

const bars = (field: string, title: string, scale?: object) => ({
  width: 150,
  height: 200,
  mark: { type: "bar" as const, tooltip: true },
  encoding: {
    column: { field: "what", type: "nominal" as const, title: null, sort: null },
    row: { field: "mode", type: "nominal" as const, title: null },
    x: { field: "store", type: "nominal" as const, title: null, axis: { labelAngle: 0 } },
    y: { field, type: "quantitative" as const, title, ...(scale ? { scale } : {}) },
    color: { field: "store", type: "nominal" as const, title: null, sort: null },
  },
});

const spec: TopLevelSpec = {
  $schema: "https://vega.github.io/schema/vega-lite/v6.json",
  title: "Event store appends on PostgreSQL 15: Sluice against Emmett (same run)",
  vconcat: [
    { data: { values: latency }, ...bars("ms", "append latency, ms (log)", { type: "log" }) },
    { data: { values: throughput }, ...bars("perSecond", "appends per second") },
  ],
};

const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
const svg = await view.toSVG();
const out = new URL("../../../docs/benchmarks/", import.meta.url);
mkdirSync(out, { recursive: true });
writeFileSync(new URL("event-store-append.svg", out), svg);
console.log("wrote docs/benchmarks/event-store-append.svg");
