// Draws the broadcast-latency results as an SVG for docs/benchmarks.md.
//
//   npm run chart -w @sluice/bench
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

interface LatencyResult {
  readonly rate: number;
  readonly subscribers: number;
  readonly latencyMs: Record<string, number>;
}

const { results } = JSON.parse(readFileSync(new URL("../results/broadcast-latency.json", import.meta.url), "utf8")) as {
  results: LatencyResult[];
};

const values = results.flatMap((result) =>
  ["p50", "p90", "p99"].map((percentile) => ({
    rate: `${result.rate}/s`,
    percentile,
    ms: result.latencyMs[percentile],
  })),
);

const spec: TopLevelSpec = {
  $schema: "https://vega.github.io/schema/vega-lite/v6.json",
  title: `Command to broadcast, embedded shape, ${results[0]?.subscribers ?? 0} subscribers (log scale)`,
  width: 420,
  height: 240,
  data: { values },
  mark: { type: "line", point: true },
  encoding: {
    x: { field: "rate", type: "ordinal", title: "commands per second", sort: null, axis: { labelAngle: 0 } },
    y: { field: "ms", type: "quantitative", title: "milliseconds", scale: { type: "log" } },
    color: { field: "percentile", type: "nominal" },
  },
};

const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
const svg = await view.toSVG();
const out = new URL("../../docs/benchmarks/", import.meta.url);
mkdirSync(out, { recursive: true });
writeFileSync(new URL("broadcast-latency.svg", out), svg);
console.log("wrote docs/benchmarks/broadcast-latency.svg");
