// argon2id cost candidates measured in-process with @node-rs/argon2 (the library the server uses):
// time per verify alone and four at a time (libuv's pool size), CPU per hash, and peak memory.
// Each candidate runs in a fresh child process, so one candidate's freed memory cannot hide the next's.
//
//   npm run argon2-cost -w @sluice/bench [-- --verifies 20]
import { hash, verify, type Algorithm } from "@node-rs/argon2";
import { productionHashCost, type HashCost } from "@sluice/identity";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { percentiles } from "./percentiles";

// Algorithm.Argon2id: a const enum, which isolated modules cannot read.
const argon2id = 2 as Algorithm;

interface Candidate {
  readonly name: string;
  readonly cost: HashCost;
}

const candidates: readonly Candidate[] = [
  { name: "production (RFC 9106 second choice, 1 lane)", cost: productionHashCost },
  { name: "RFC 9106 second choice as written (4 lanes)", cost: { memoryCost: 65536, timeCost: 3, parallelism: 4 } },
  { name: "OWASP first (46 MiB, t=1)", cost: { memoryCost: 47104, timeCost: 1, parallelism: 1 } },
  { name: "OWASP second (19 MiB, t=2)", cost: { memoryCost: 19456, timeCost: 2, parallelism: 1 } },
];

const { values: args } = parseArgs({
  options: { verifies: { type: "string", default: "20" }, probe: { type: "string" } },
});
const verifies = Number(args.verifies);

const status = (field: "VmRSS" | "VmHWM") =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync("/proc/self/status", "utf8"))![1]) * 1024;
const round = (value: number, places = 1) => Math.round(value * 10 ** places) / 10 ** places;

/** One candidate, in this (fresh) process; prints its figures as JSON. */
async function probe(cost: HashCost) {
  const options = { algorithm: argon2id, ...cost };
  const password = "correct horse battery staple";
  const baseline = status("VmRSS");
  const stored = await hash(password, options);
  const peakOne = status("VmHWM") - baseline;
  await Promise.all(Array.from({ length: 4 }, () => verify(stored, password)));
  const peakFour = status("VmHWM") - baseline;

  const alone: number[] = [];
  for (let i = 0; i < verifies; i++) {
    const started = performance.now();
    if (!(await verify(stored, password))) throw new Error("verify failed");
    alone.push(performance.now() - started);
  }

  // Four at a time, as the server's thread pool runs them under load: throughput and CPU per hash.
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const fourAtATime: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next++ < verifies * 2) {
        const t = performance.now();
        await verify(stored, password);
        fourAtATime.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const p = percentiles(alone, [50, 90, 100]);
  const q = percentiles(fourAtATime, [50, 90, 100]);
  return {
    phc: stored.split("$").slice(0, 4).join("$"),
    verifyAloneMs: Object.fromEntries(Object.entries(p).map(([k, v]) => [k, round(v)])),
    verifyFourAtATimeMs: Object.fromEntries(Object.entries(q).map(([k, v]) => [k, round(v)])),
    verifiesPerSecondFourAtATime: round(fourAtATime.length / elapsed),
    cpuMsPerVerify: round((cpu.user + cpu.system) / 1000 / fourAtATime.length),
    peakMemoryMiBOneHash: round(peakOne / 2 ** 20),
    peakMemoryMiBFourHashes: round(peakFour / 2 ** 20),
  };
}

if (args.probe !== undefined) {
  console.log(JSON.stringify(await probe(JSON.parse(args.probe) as HashCost)));
} else {
  const load = loadavg().map((l) => round(l, 2));
  console.log(`load average ${load.join(" ")}; ${verifies} verifies alone, ${verifies * 2} four at a time`);
  const results = [];
  for (const candidate of candidates) {
    const output = execFileSync(
      process.execPath,
      [
        "--import",
        "tsx",
        fileURLToPath(import.meta.url),
        "--verifies",
        String(verifies),
        "--probe",
        JSON.stringify(candidate.cost),
      ],
      { encoding: "utf8" },
    );
    const figures = JSON.parse(output.trim().split("\n").at(-1)!) as Awaited<ReturnType<typeof probe>>;
    results.push({ ...candidate, ...figures });
    const { memoryCost: m, timeCost: t, parallelism: lanes } = candidate.cost;
    console.log(
      `${candidate.name}: m=${m} KiB t=${t} p=${lanes}: verify alone p50 ${figures.verifyAloneMs.p50} ms ` +
        `(p90 ${figures.verifyAloneMs.p90}); four at a time p50 ${figures.verifyFourAtATimeMs.p50} ms, ` +
        `${figures.verifiesPerSecondFourAtATime}/s; CPU ${figures.cpuMsPerVerify} ms per verify; ` +
        `peak memory ${figures.peakMemoryMiBOneHash} MiB (one), ${figures.peakMemoryMiBFourHashes} MiB (four)`,
    );
  }
  mkdirSync(new URL("../results", import.meta.url), { recursive: true });
  writeFileSync(
    new URL("../results/argon2-cost.json", import.meta.url),
    JSON.stringify({ at: new Date().toISOString(), loadAverage: load, results }, null, 2) + "\n",
  );
  console.log("results written to bench/results/argon2-cost.json");
}
