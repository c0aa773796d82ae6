// The embedded server as a child process, so its memory and CPU are its own and not the load generator's.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pidCpuMs, threadCpuMs } from "./cpuTime";

const root = new URL("../..", import.meta.url).pathname;

export interface EmbeddedServer {
  readonly url: string;
  readonly wsUrl: string;
  readonly pid: number;
  /** Resident set size of the server process, in bytes (from /proc). */
  rssBytes(): number;
  /** User + system CPU seconds the server process has used (from /proc). */
  cpuSeconds(): number;
  /** The same, per thread, by thread id (the main thread's is the pid). */
  threadCpuSeconds(): Map<string, number>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export interface EmbeddedServerOptions {
  readonly env?: Record<string, string>;
  /** Extra Node flags for the server, e.g. `--cpu-prof` (SLUICE_BENCH_NODE_ARGS adds to them). */
  readonly nodeArgs?: readonly string[];
}

export async function startEmbeddedServer(options: EmbeddedServerOptions = {}): Promise<EmbeddedServer> {
  const nodeArgs = [
    ...(options.nodeArgs ?? []),
    ...(process.env.SLUICE_BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
  ];
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "sluice-bench-"));
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, "--import", "tsx", "apps/server/src/main.ts"], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
      ...options.env,
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error("server did not become ready in 120 s");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const pid = child.pid!;
  return {
    url,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    pid,
    rssBytes: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024,
    cpuSeconds: () => pidCpuMs(pid) / 1000,
    threadCpuSeconds: () => new Map([...threadCpuMs(pid)].map(([tid, ms]) => [tid, ms / 1000])),
    stop: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
