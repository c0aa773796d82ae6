import { openSluice } from "./stores";
import { sequentialAppends } from "./workloads";
import { pidCpuMs, processCpuMs } from "../cpuTime";
import { backendPids } from "./databases";
const n = Number(process.argv[2] ?? 5000);
const store = await openSluice((process.argv[3] as "on" | "off") ?? "on");
await sequentialAppends(store, 500, 1);
const pgCpu = async () => { let t = 0; for (const pid of await backendPids(store.database.name)) t += pidCpuMs(pid); return t; };
for (let r = 0; r < Number(process.argv[4] ?? 1); r++) {
  const p0 = await pgCpu();
  const c0 = processCpuMs();
  const s = await sequentialAppends(store, n, 1);
  const cpu = processCpuMs() - c0;
  const pg = (await pgCpu()) - p0;
  const sorted = [...s.latenciesMs].sort((a, b) => a - b);
  console.log(`p50 ${sorted[Math.floor(n / 2)]!.toFixed(3)} p99 ${sorted[Math.floor(n * 0.99)]!.toFixed(3)} ${s.appendsPerSecond.toFixed(0)}/s cpu node ${((cpu * 1000) / n).toFixed(0)} + pg ${((pg * 1000) / n).toFixed(0)} us/append load ${(await import("node:os")).loadavg()[0]!.toFixed(1)}`);
}
await store.close();
