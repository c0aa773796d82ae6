// Draws the results as SVGs for docs/benchmarks.md: each chart whose results file exists.
//
//   npm run chart -w @sluice/bench
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

const out = new URL("../../docs/benchmarks/", import.meta.url);
mkdirSync(out, { recursive: true });

function readResults<T>(name: string): T | undefined {
  const file = new URL(`../results/${name}.json`, import.meta.url);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as T) : undefined;
}

async function draw(spec: TopLevelSpec, name: string): Promise<void> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  writeFileSync(new URL(`${name}.svg`, out), await view.toSVG());
  console.log(`wrote docs/benchmarks/${name}.svg`);
}

interface LatencyResult {
  readonly rate: number;
  readonly subscribers: number;
  readonly latencyMs: Record<string, number>;
}

const broadcast = readResults<{ results: LatencyResult[] }>("broadcast-latency");
if (broadcast) {
  const { results } = broadcast;
  const values = results.flatMap((result) =>
    ["p50", "p90", "p99"].map((percentile) => ({
      rate: `${result.rate}/s`,
      percentile,
      ms: result.latencyMs[percentile],
    })),
  );
  await draw(
    {
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
    },
    "broadcast-latency",
  );
}

interface SignInResult {
  readonly concurrency: number;
  readonly signInsPerSecond: number;
  readonly latencyMs: Record<string, number>;
}

const signIn = readResults<{ hashCost: { memoryCost: number; timeCost: number }; results: SignInResult[] }>("sign-in");
if (signIn) {
  const { hashCost, results } = signIn;
  const values = results.flatMap((result) =>
    ["p50", "p99"].map((percentile) => ({
      concurrency: result.concurrency,
      series: `${percentile} latency`,
      ms: result.latencyMs[percentile],
    })),
  );
  await draw(
    {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title: `Sign-in over HTTP, argon2id ${hashCost.memoryCost / 1024} MiB × ${hashCost.timeCost} (log scale)`,
      width: 420,
      height: 240,
      data: { values },
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "concurrency", type: "ordinal", title: "sign-ins in flight", axis: { labelAngle: 0 } },
        y: { field: "ms", type: "quantitative", title: "milliseconds", scale: { type: "log" } },
        color: { field: "series", type: "nominal", title: null },
      },
    },
    "sign-in-latency",
  );
}
