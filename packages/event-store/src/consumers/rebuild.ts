// Rebuilds a projection from the start of the log beside the live one, then swaps it in.
import { migrate, type Database } from "@sluice/database";
import type { EventStore, LogPosition, RecordedEvent } from "../types";
import { advanceCheckpoint, compareLogPositions, loadCheckpoint } from "./checkpoint";
import { projectionCheckpointName, type Projection } from "./projection";
import { RebuildConflictError, UnknownProjectionError } from "./rebuildErrors";
import { writeBehind } from "./rebuildWrites";
import { createRateMeter, progressOf, type RebuildProgress } from "./rebuildProgress";
import {
  dropSchema,
  inSchema,
  quoteIdentifier,
  rebuildSchemas,
  schemaExists,
  swapSchemaObjects,
  type RebuildSchemas,
} from "./rebuildSchema";

/**
 * Events in a rebuild's first page: small enough to write within any bound on a slow machine, and
 * grown by half a page at a time, ten pages reach thousands. Starting at pageSize, the first pages
 * of 20,000 events held the log's readers back for 0.4–0.7 s each before the bound shrank them.
 */
const firstPageSize = 200;

export interface RebuildOptions {
  /** Events read and applied per transaction, at most; 5,000 by default. */
  readonly pageSize?: number;
  /**
   * Keeps the writing part of each page's transaction about this short, by halving the page when
   * one takes longer and growing it by half, up to pageSize, while they are quick; 50 ms by default.
   * The first page is small (`firstPageSize`) and the pages grow from it, so that the bound holds
   * from the start rather than after a few pages of pageSize have held the log back.
   * While a page's transaction writes, readers of the log wait for it (they never read past an
   * open writing transaction), so this bounds what a rebuild adds to the live projection's lag.
   * A page reads before it writes (a combined projection's members too, see `writeLane`): the
   * reading part holds nobody back and is not bounded. On PGlite, which runs one statement at a
   * time, everything else in the process waits for the whole transaction: there the whole is bounded.
   */
  readonly maxPageMs?: number;
  /**
   * Continue what an interrupted run built instead of starting from zero. Only with the same
   * projection code: tables built by other code would mix two versions of the read model.
   */
  readonly resume?: boolean;
  /** Called after every page and at the swap. */
  readonly onProgress?: (progress: RebuildProgress) => void;
  /** Stops between pages; the live projection is untouched until the swap, which is not interrupted. */
  readonly signal?: AbortSignal;
  /**
   * How many times the swap lets the rebuild catch up first when the live projection is further
   * along (it keeps running meanwhile); after that it swaps anyway and the live consumer applies the
   * difference to the new tables within its next batch. 5 by default.
   */
  readonly catchUpAttempts?: number;
}

export interface RebuildResult {
  readonly projection: string;
  /** Events applied by this run. */
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  /** The place the live projection continues from. */
  readonly checkpoint: LogPosition;
  /** The objects swapped into the live schema. */
  readonly swapped: readonly string[];
  /** Set when the old tables could not be dropped after the swap: they remain in this schema. */
  readonly retiredLeftIn?: string;
}

/** The projection of that name among those the caller runs, or an UnknownProjectionError. */
export function findProjection(projections: readonly Projection[], name: string): Projection {
  const found = projections.find((projection) => projection.name === name);
  if (!found)
    throw new UnknownProjectionError(
      name,
      projections.map((projection) => projection.name),
    );
  return found;
}

const positionOf = (event: RecordedEvent): LogPosition => ({
  transactionId: event.transactionId,
  globalPosition: event.globalPosition,
});

/**
 * Builds the projection's tables anew from the start of the log in a schema of their own, beside
 * the live ones, then in one transaction moves the live tables out, the new ones in, and sets the
 * live checkpoint to where the rebuild got. A live consumer of the projection keeps running
 * throughout: its next checkpoint move finds the checkpoint changed (compare-and-set), so it
 * rolls back, reloads and continues from the new place, on the new tables.
 *
 * Pages of `pageSize` events, each one transaction (with synchronous_commit off: a crash loses
 * at most the last pages, which a resumed run applies again; the swap commits durably), the next
 * page read while this one is written. Interrupted (a signal, an error, a crash) before the swap,
 * the live projection is as it was; the building schema stays for a resumed run or is replaced
 * by a new one.
 */
export async function rebuildProjection(
  db: Database,
  store: EventStore,
  projection: Projection,
  options: RebuildOptions = {},
): Promise<RebuildResult> {
  const pageSize = options.pageSize ?? 5_000;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError("rebuild pageSize must be a positive integer");
  const catchUpAttempts = options.catchUpAttempts ?? 5;
  const maxPageMs = options.maxPageMs ?? 50;
  if (!(maxPageMs > 0)) throw new RangeError("rebuild maxPageMs must be positive");
  let limit = Math.min(pageSize, firstPageSize);
  const { signal } = options;
  signal?.throwIfAborted();
  const checkpointName = projectionCheckpointName(projection.name);
  const schemas = await rebuildSchemas(db, projection.name);
  const building = inSchema(db, schemas.building, { synchronousCommit: false });

  // What a swap that could not drop them left: a new swap needs the schema name free.
  await dropSchema(db, schemas.retired);
  const resuming = options.resume === true && (await schemaExists(db, schemas.building));
  if (!resuming) {
    await dropSchema(db, schemas.building);
    const { rows } = await db.query<{ sql: string }>(
      "select format('create schema %I; comment on schema %I is %L', $1::text, $1::text, $2::text) as sql",
      [schemas.building, `rebuild of projection ${projection.name} for schema ${schemas.live}`],
    );
    await db.exec(rows[0]!.sql);
  }
  await building.exec(
    `create table if not exists consumer_checkpoints (like ${quoteIdentifier(schemas.live)}.consumer_checkpoints including all)`,
  );
  await migrate(building, projection.migrations ?? []);

  let from = await loadCheckpoint(building, checkpointName);
  const total = await eventsAfter(db, from);
  const meter = createRateMeter();
  let done = 0;
  let rate = 0;
  const report = (phase: RebuildProgress["phase"]) =>
    options.onProgress?.(progressOf(projection.name, phase, done, total, rate, meter.secondsElapsed()));
  report("building");

  /** Whether the building schema still holds this run's checkpoint at `position`. */
  const stillAt = async (position: LogPosition) => {
    try {
      return compareLogPositions(await loadCheckpoint(building, checkpointName), position) === 0;
    } catch {
      return false;
    }
  };

  /** Applies pages until a read comes back short: the log is drained up to its safe horizon. */
  async function applyPages(): Promise<void> {
    const read = (after: LogPosition) => {
      const asked = limit;
      return store.readAll({ after, limit: asked }).then((events) => ({ events, asked }));
    };
    let next = read(from);
    for (;;) {
      // A prefetch still running when this run stops must not surface as an unhandled rejection.
      next.catch(() => {});
      signal?.throwIfAborted();
      const { events, asked } = await next;
      const last = events.at(-1);
      if (!last) return;
      const to = positionOf(last);
      const drained = events.length < asked;
      // The next page is read (and decoded) while this one is written.
      if (!drained) next = read(to);
      const at = from;
      const started = performance.now();
      let writingSince: number | undefined;
      await building
        .transaction(async (tx) => {
          // The handler first, its writes held back, the checkpoint last: the transaction takes a
          // transaction id at its first write, and while it holds one, every reader of the log
          // (the live consumer too) waits for it (the log's safe horizon); so it holds one only for
          // the writes themselves, not for the handler's own work.
          const writes = writeBehind(tx);
          await projection.handle(writes, events);
          await writes.flush();
          writingSince = writes.writingSince ?? performance.now();
          if (!(await advanceCheckpoint(tx, checkpointName, at, to))) throw new RebuildConflictError(projection.name);
        })
        .catch(async (error: unknown) => {
          // Another run that dropped the schema (started over, or swapped it in) shows first as the
          // handler's tables missing: the place this run built from is gone either way.
          if (!(error instanceof RebuildConflictError) && !(await stillAt(at)))
            throw new RebuildConflictError(projection.name);
          throw error;
        });
      const took = performance.now() - (db.kind === "pglite" ? started : (writingSince ?? started));
      if (took > maxPageMs) limit = Math.max(1, Math.floor(limit / 2));
      else if (took < maxPageMs / 2) limit = Math.min(pageSize, Math.ceil(limit * 1.5));
      from = to;
      done += events.length;
      rate = meter.record(done);
      report("building");
      if (drained) return;
      // On PGlite a page's queries settle as microtasks only: without a turn of the event loop
      // between pages, the process's timers and sockets (a running server's) would wait for the whole rebuild.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  let swapped: string[] | undefined;
  for (let attempt = 1; swapped === undefined; attempt++) {
    await applyPages();
    signal?.throwIfAborted();
    report("swapping");
    swapped = await swap(db, schemas, projection, from, attempt <= catchUpAttempts);
  }
  let retiredLeftIn: string | undefined;
  try {
    await dropSchema(db, schemas.retired);
  } catch {
    // Readers still on the old tables, say: dropped by the next rebuild instead.
    retiredLeftIn = schemas.retired;
  }
  const seconds = meter.secondsElapsed();
  report("done");
  return {
    projection: projection.name,
    events: done,
    seconds,
    eventsPerSecond: seconds > 0 ? done / seconds : 0,
    checkpoint: from,
    swapped,
    ...(retiredLeftIn !== undefined && { retiredLeftIn }),
  };
}

async function eventsAfter(db: Database, position: LogPosition): Promise<number> {
  const { rows } = await db.query<{ n: bigint }>(
    "select count(*) as n from events where (transaction_id, global_position) > ($1::text::xid8, $2::bigint)",
    [position.transactionId.toString(), position.globalPosition.toString()],
  );
  return Number(rows[0]?.n ?? 0n);
}

/**
 * One transaction: locks the live checkpoint (a live consumer's batch in flight finishes first,
 * and its next one waits), and unless the live projection is further along and `mayWait`, moves
 * the objects and sets the live checkpoint to `built`. Returns the objects moved, or undefined
 * when the rebuild should catch up first.
 */
async function swap(
  db: Database,
  schemas: RebuildSchemas,
  projection: Projection,
  built: LogPosition,
  mayWait: boolean,
): Promise<string[] | undefined> {
  const live = `${quoteIdentifier(schemas.live)}.consumer_checkpoints`;
  const buildingCheckpoints = `${quoteIdentifier(schemas.building)}.consumer_checkpoints`;
  const name = projectionCheckpointName(projection.name);
  return db.transaction(async (tx) => {
    // Every name below is qualified; nothing resolves through the search path.
    await tx.query("select set_config('search_path', 'pg_catalog', true)");
    // Readers of the old tables finish first; one holding them this long fails the rebuild instead.
    await tx.query("select set_config('lock_timeout', '10s', true)");
    await tx.query(
      `insert into ${live} (name, transaction_id, global_position) values ($1, '0', 0) on conflict (name) do nothing`,
      [name],
    );
    type Row = { transaction_id: bigint; global_position: bigint };
    const position = (row: Row | undefined): LogPosition | undefined =>
      row && { transactionId: row.transaction_id, globalPosition: row.global_position };
    const current = position(
      (await tx.query<Row>(`select transaction_id, global_position from ${live} where name = $1 for update`, [name]))
        .rows[0],
    )!;
    const ours = position(
      (
        await tx.query<Row>(
          `select transaction_id, global_position from ${buildingCheckpoints} where name = $1 for update`,
          [name],
        )
      ).rows[0],
    );
    if (!ours || compareLogPositions(ours, built) !== 0) throw new RebuildConflictError(projection.name);
    if (mayWait && compareLogPositions(built, current) < 0) return undefined;

    const moved = await swapSchemaObjects(tx, schemas);
    await tx.query(
      `update ${live} set transaction_id = $2::text::xid8, global_position = $3::bigint, updated_at = now() where name = $1`,
      [name, built.transactionId.toString(), built.globalPosition.toString()],
    );
    if (projection.takesOverCheckpoints?.length) {
      await tx.query(`delete from ${live} where name = any($1::text[])`, [projection.takesOverCheckpoints]);
    }
    // The live schema now holds what these migrations made.
    const ids = (projection.migrations ?? []).map((migration) => migration.id);
    if (ids.length > 0) {
      await tx.query(
        `insert into ${quoteIdentifier(schemas.live)}.schema_migrations (id) select unnest($1::text[]) on conflict do nothing`,
        [ids],
      );
    }
    return moved;
  });
}
