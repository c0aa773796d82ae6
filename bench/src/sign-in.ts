// Sign-in over real HTTP (POST /auth/signin) with the production argon2id cost: latency
// percentiles and server CPU per sign-in, closed loop at a few concurrency levels.
//
//   npm run sign-in -w @sluice/bench [-- --concurrency 1,2,4,8 --seconds 15 --users 100]
import { productionHashCost } from "@sluice/identity";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { benchUsers, clientAddress, postJson } from "./bench-users";
import { startEmbeddedServer } from "./embedded-server";
import { percentiles } from "./percentiles";

const { values: args } = parseArgs({
  options: {
    concurrency: { type: "string", default: "1,2,4,8" },
    seconds: { type: "string", default: "15" },
    users: { type: "string", default: "100" },
  },
});
const levels = args.concurrency.split(",").map(Number);
const seconds = Number(args.seconds);

// apps/server/src/main.ts passes no hashCost, so the server hashes with productionHashCost.
const server = await startEmbeddedServer();
// Many users and client addresses, so each stays far below identity's per-email and per-address
// sign-in limits (defaultSignInLimits): the bench measures sign-in, not the throttle's 429.
const users = await benchUsers(server.url, Number(args.users));
console.log(
  `argon2id m=${productionHashCost.memoryCost} KiB t=${productionHashCost.timeCost} p=${productionHashCost.parallelism}; ` +
    `${users.length} users; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
);

let attempt = 0;
async function signInOnce(): Promise<{ status: number; ms: number; retryAfter?: string }> {
  const index = attempt++;
  const user = users[index % users.length]!;
  const started = performance.now();
  const reply = await postJson(
    `${server.url}/auth/signin`,
    { email: user.email, password: user.password },
    clientAddress(index),
  );
  const ms = performance.now() - started;
  if (reply.status === 200 && typeof (reply.body as { accessToken?: unknown }).accessToken !== "string") {
    throw new Error("sign-in answered 200 without an access token");
  }
  const retryAfter = reply.headers["retry-after"];
  return { status: reply.status, ms, ...(typeof retryAfter === "string" ? { retryAfter } : {}) };
}

// One warm-up round: the first verify pays for thread start-up and the JIT.
await Promise.all(Array.from({ length: 4 }, signInOnce));

const results = [];
for (const concurrency of levels) {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const load = loadavg()[0]!;
  const cpuBefore = server.cpuSeconds();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const progress = setInterval(
    () => process.stdout.write(`\r  concurrency ${concurrency}: ${latencies.length} sign-ins`),
    1000,
  );
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const { status, ms } = await signInOnce();
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 200) latencies.push(ms);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpu = server.cpuSeconds() - cpuBefore;
  clearInterval(progress);
  const p = percentiles(latencies, [50, 90, 99, 100]);
  const round = (value: number, places = 1) => Math.round(value * 10 ** places) / 10 ** places;
  const result = {
    concurrency,
    seconds: round(elapsed),
    signIns: latencies.length,
    statuses: Object.fromEntries(statuses),
    signInsPerSecond: round(latencies.length / elapsed, 2),
    latencyMs: Object.fromEntries(Object.entries(p).map(([k, v]) => [k, round(v)])),
    serverCpuCores: round(cpu / elapsed, 2),
    serverCpuMsPerSignIn: round((cpu * 1000) / Math.max(1, latencies.length)),
    loadAverage1m: round(load, 2),
  };
  results.push(result);
  process.stdout.write("\n");
  console.log(
    `concurrency ${concurrency}: ${result.signIns} sign-ins, ${result.signInsPerSecond}/s, p50 ${result.latencyMs.p50} ms, ` +
      `p99 ${result.latencyMs.p99} ms, max ${result.latencyMs.p100} ms; server CPU ${result.serverCpuCores} cores, ` +
      `${result.serverCpuMsPerSignIn} ms per sign-in; replies ${JSON.stringify(result.statuses)}`,
  );
}

await server.stop();
mkdirSync(new URL("../results", import.meta.url), { recursive: true });
writeFileSync(
  new URL("../results/sign-in.json", import.meta.url),
  JSON.stringify(
    { at: new Date().toISOString(), hashCost: productionHashCost, users: users.length, results },
    null,
    2,
  ) + "\n",
);
console.log("results written to bench/results/sign-in.json");
