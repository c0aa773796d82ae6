// npm run rebuild -- <projection> [--database postgres://… | --data-dir …]: rebuilds a projection
// beside the live one and swaps it in, showing progress, rate and time left. Exit codes: 0 done,
// 1 failed, 2 bad usage or unknown projection, 130 interrupted (the live projection untouched).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { openDatabase } from "@sluice/database";
import { createEventStore, findProjection, rebuildProjection, UnknownProjectionError } from "@sluice/event-store";
import { progressWriter } from "./progressLine";
import { parseRebuildArgs, usage, UsageError } from "./rebuildArgs";
import { serverProjections } from "./projections";

async function main(argv: readonly string[]): Promise<number> {
  let args;
  try {
    args = parseRebuildArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`rebuild: ${error.message}\n\n${usage}`);
    return 2;
  }
  const { database } = args;
  // PGlite would create an empty database where none is: a typo must not "rebuild" nothing.
  if (database.kind === "pglite" && !existsSync(join(database.dataDir!, "PG_VERSION"))) {
    console.error(`rebuild: no database in ${database.dataDir} (give --data-dir, or --database for PostgreSQL)`);
    return 2;
  }
  const db = await openDatabase(database);
  const stop = new AbortController();
  const interrupt = () => stop.abort();
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);
  const progress = progressWriter(process.stderr);
  try {
    // Rebuilding where there is no event store would create one (createEventStore migrates): refuse.
    const { rows } = await db.query<{ events: string | null }>("select to_regclass('events')::text as events");
    if (!rows[0]?.events) {
      console.error("rebuild: this database has no event store (no events table on its search path)");
      return 2;
    }
    const store = await createEventStore(db);
    const projections = serverProjections(db, store);
    if (args.list) {
      for (const projection of projections) console.log(projection.name);
      return 0;
    }
    const projection = findProjection(projections, args.projection!);
    const result = await rebuildProjection(db, store, projection, {
      pageSize: args.pageSize,
      maxPageMs: args.maxPageMs,
      resume: args.resume,
      signal: stop.signal,
      onProgress: progress,
    });
    progress.end();
    console.log(
      `rebuilt ${result.projection}: ${result.events.toLocaleString("en-US")} events in ${result.seconds.toFixed(1)} s ` +
        `(${Math.round(result.eventsPerSecond).toLocaleString("en-US")} events/s); swapped in ${result.swapped.join(", ")}`,
    );
    if (result.retiredLeftIn)
      console.log(`the old tables are left in schema ${result.retiredLeftIn}; the next rebuild drops them`);
    return 0;
  } catch (error) {
    progress.end();
    if (error instanceof UnknownProjectionError) {
      console.error(`rebuild: ${error.message}`);
      return 2;
    }
    if (stop.signal.aborted) {
      console.error("rebuild: interrupted; the live projection is untouched. Run again, with --resume to continue.");
      return 130;
    }
    console.error("rebuild: failed; the live projection is untouched unless the swap was reported.", error);
    return 1;
  } finally {
    process.off("SIGINT", interrupt);
    process.off("SIGTERM", interrupt);
    await db.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
