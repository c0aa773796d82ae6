import { startElection, type Database, type ElectedWork } from "@sluice/database";
import { Gauge } from "prom-client";
import type { RoleDetail, RoleParts } from "./role-process";

/**
 * Runs `start`'s work only while this process holds the lease `name` (one process of the
 * deployment at a time: the outbox relay, the projector); the others stand by and take over when
 * it stops, dies or loses its connection. Shows in /readyz (`leading`), in /metrics
 * (`sluice_lease_held`) and in the log. Stopped with the role: the work drains, the lease is
 * given up, a standby takes over within its retry interval.
 */
export function runElected(
  { app, metrics, cleanups }: RoleParts,
  db: Database,
  name: string,
  retryMs: number,
  start: () => Promise<ElectedWork>,
): RoleDetail {
  const held = new Gauge({
    name: "sluice_lease_held",
    help: "1 while this process holds the lease and runs its work, 0 while it stands by",
    labelNames: ["lease"],
    registers: [metrics],
  });
  held.set({ lease: name }, 0);
  const election = startElection(db, name, start, {
    retryMs,
    onLeading(leading) {
      held.set({ lease: name }, leading ? 1 : 0);
      app.log.info({ lease: name }, leading ? "took the lease: running" : "stopped running; standing by");
    },
    onError: (error, message) => app.log.warn({ err: error, lease: name }, message),
  });
  cleanups.push(() => election.stop());
  return () => ({ lease: name, leading: election.leading });
}
