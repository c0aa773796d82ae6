// CPU time, which a shared machine's load does not change the way it changes wall-clock time: this
// process's, and that of the PostgreSQL backends serving one database (Linux, server on this machine).
import { readdirSync, readFileSync } from "node:fs";

/** Milliseconds of CPU this process has used. */
export function processCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Milliseconds of CPU process `pid` has used (utime + stime from /proc; USER_HZ is 100 on Linux). */
export function pidCpuMs(pid: number | string): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Milliseconds of CPU each thread of process `pid` has used, by thread id (the main thread's id is
 * the pid). Node names every thread "node", so a worker is told apart by its id and its share.
 */
export function threadCpuMs(pid: number | string): Map<string, number> {
  const threads = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      threads.set(tid, pidCpuMs(`${pid}/task/${tid}`));
    } catch {
      // Ended meanwhile.
    }
  }
  return threads;
}

/**
 * Milliseconds of CPU used so far by the PostgreSQL backends connected to `database` (those alive
 * now: read it before and after, with the connections open throughout), from /proc; undefined
 * where there is no /proc or no such backend.
 */
export function postgresCpuMs(database: string): number | undefined {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  let ms = 0;
  let found = false;
  for (const pid of pids) {
    try {
      // A backend's title: "postgres: [<cluster>: ]<user> <database> <client> <state>".
      const title = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\u0000")[0] ?? "";
      if (/^postgres: (?:\S+: )?\S+ (\S+) /.exec(title)?.[1] !== database) continue;
      ms += pidCpuMs(pid);
      found = true;
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found ? ms : undefined;
}
