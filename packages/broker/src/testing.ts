// For tests only: the Redis a suite runs against (scripts/services.sh starts it on this machine),
// and a key prefix per test so suites share one Redis without seeing each other.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openRedis, redisReachable, type RedisConnection } from "./redis-connection";

export const redisTestUrl = process.env.SLUICE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** A reason to skip a Redis suite: only when Redis is unreachable and CI is not "true". */
export async function redisTestSkip(): Promise<string | false> {
  if (process.env.CI === "true") return false;
  return (await redisReachable(redisTestUrl))
    ? false
    : `Redis unreachable at ${redisTestUrl} (bash scripts/services.sh starts it)`;
}

/** A fresh prefix for one test's keys and channels. */
export function testKeyPrefix(): string {
  return `sluice-test:${randomBytes(6).toString("hex")}:`;
}

/** A plain connection for a test to look at Redis from outside (PUBSUB, CLIENT KILL, DEL). */
export function openTestRedis(url = redisTestUrl): Promise<RedisConnection> {
  return openRedis({ url }, "test");
}

/** Deletes every key under a test's prefix. */
export async function deleteTestKeys(redis: RedisConnection, prefix: string): Promise<void> {
  for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
    if (keys.length > 0) await redis.unlink(keys);
  }
}

/** Resolves once `condition` holds, checking every few milliseconds; rejects after timeoutMs. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const children = new Set<ChildProcess>();
let hooked = false;

function killChildren(): void {
  for (const child of children) child.kill("SIGKILL");
}

/**
 * Kills the child (SIGKILL) should this test process end first, on its own or by SIGTERM or
 * SIGINT (a test runner stopping a file that timed out): servers a test started must not outlive it.
 */
export function endsWithThisProcess<C extends ChildProcess>(child: C): C {
  if (!hooked) {
    hooked = true;
    process.once("exit", killChildren);
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      process.once(signal, () => {
        killChildren();
        process.exit(signal === "SIGTERM" ? 143 : 130);
      });
    }
  }
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** A port nothing listens on now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A reason to skip a suite that runs a Redis of its own: only when redis-server is missing and CI is not "true". */
export function privateRedisSkip(): string | false {
  if (process.env.CI === "true") return false;
  return spawnSync("redis-server", ["--version"]).status === 0 ? false : "redis-server not installed";
}

/**
 * A redis-server of a test's own on a free port, without persistence: killing it loses every key,
 * as a restart of a Redis without persistence does, unless `restart({ keepData: true })` saves
 * them first. For tests that stop Redis under the code they test, never touching the Redis other
 * suites share.
 */
export class PrivateRedis {
  readonly port: number;
  readonly url: string;
  readonly #debugCommand: boolean;
  /** Where a restart that keeps the data leaves its snapshot (dump.rdb). */
  readonly #dir: string;
  #process: ChildProcess | undefined;
  #admin: RedisConnection | undefined;

  private constructor(port: number, debugCommand: boolean) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
    this.#debugCommand = debugCommand;
    this.#dir = join(tmpdir(), `sluice-test-redis-${port}-${randomBytes(4).toString("hex")}`);
  }

  /** `debugCommand` allows DEBUG (e.g. DEBUG SLEEP, a stalled Redis) from loopback. */
  static async start(options: { debugCommand?: boolean } = {}): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), options.debugCommand ?? false);
    await redis.restart();
    return redis;
  }

  /**
   * Starts it (again) on the same port, empty, or with the keys it had (`keepData`: saved to disk
   * just before it is killed, as a Redis with persistence comes back); resolves once it answers PING.
   */
  async restart(options: { keepData?: boolean } = {}): Promise<void> {
    const snapshot = join(this.#dir, "dump.rdb");
    if (options.keepData && this.#process) {
      this.#admin ??= await openRedis({ url: this.url }, "test admin");
      await this.#admin.sendCommand(["SAVE"]);
    } else {
      rmSync(snapshot, { force: true });
    }
    await this.#stop();
    mkdirSync(this.#dir, { recursive: true });
    const args = [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      this.#dir,
    ];
    if (this.#debugCommand) args.push("--enable-debug-command", "local");
    const child = endsWithThisProcess(spawn("redis-server", args, { stdio: "ignore" }));
    this.#process = child;
    let failure: Error | undefined;
    child.once("error", (error) => (failure = error));
    child.once("exit", (code) => (failure ??= new Error(`redis-server exited (${code}) on port ${this.port}`)));
    await waitFor(
      async () => {
        if (failure) throw failure;
        return redisReachable(this.url, 500);
      },
      `redis-server answering on ${this.port}`,
      10_000,
    );
  }

  /**
   * Out of reach with its data kept, as behind a network that failed: every client's connection
   * cut, and new ones refused (max clients reached) until `reachable()`.
   */
  async unreachable(): Promise<void> {
    this.#admin ??= await openRedis({ url: this.url }, "test admin");
    // This connection is the one client left room for; it is not cut (CLIENT KILL skips its caller).
    await this.#admin.sendCommand(["CONFIG", "SET", "maxclients", "1"]);
    await this.#admin.sendCommand(["CLIENT", "KILL", "TYPE", "normal"]);
    await this.#admin.sendCommand(["CLIENT", "KILL", "TYPE", "pubsub"]);
  }

  /** Takes clients again after `unreachable()`. */
  async reachable(): Promise<void> {
    await this.#admin?.sendCommand(["CONFIG", "SET", "maxclients", "10000"]);
  }

  /** kill -9, and its data gone; resolves once it has exited. */
  async kill(): Promise<void> {
    await this.#stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  async #stop(): Promise<void> {
    this.#admin?.destroy();
    this.#admin = undefined;
    const child = this.#process;
    this.#process = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
  }
}
