import { migrate, type Database, type Migration, type Queryable } from "@sluice/database";
import type { EventStore, LogPosition, RecordedEvent } from "../types";
import { compareLogPositions } from "./checkpoint";
import { writeLane } from "./rebuildWrites";
import { startConsumer, type Consumer, type ConsumerOptions } from "./startConsumer";

/** A read model: its tables (migrations) and how events change them. */
export interface Projection {
  /** Also the name of its checkpoint (`projection:<name>`). */
  readonly name: string;
  readonly migrations?: readonly Migration[];
  /**
   * Writes through `tx` only: it commits with the checkpoint, so each event counts exactly once.
   * Names its tables unqualified and touches no others: a rebuild runs it with only the schema
   * it builds in on the search path (see rebuildProjection).
   */
  handle(tx: Queryable, events: readonly RecordedEvent[]): Promise<void>;
  /**
   * Checkpoints of projections this one took the place of (a combined projection's members run
   * alone before). A rebuild deletes them when it swaps in tables that hold every event.
   */
  readonly takesOverCheckpoints?: readonly string[];
}

/** The checkpoint a projection started with `startProjection` keeps its place under. */
export const projectionCheckpointName = (projectionName: string): string => `projection:${projectionName}`;

/**
 * Creates the projection's tables if needed, then keeps it up to date from the log, announcing
 * each batch to `followConsumer` in other processes (queries that read their writes wait on it).
 */
export async function startProjection(
  db: Database,
  store: EventStore,
  projection: Projection,
  options: Omit<ConsumerOptions, "name" | "handle"> = {},
): Promise<Consumer> {
  await migrate(db, projection.migrations ?? []);
  return startConsumer(db, store, {
    announce: true,
    ...options,
    name: projectionCheckpointName(projection.name),
    handle: (events, tx) => projection.handle(tx, events),
  });
}

/**
 * Several projections as one: one read of the log, one transaction and one checkpoint per batch
 * for all of them, instead of one each. Each member still sees every event once, in log order.
 *
 * A member that ran on its own before has a checkpoint of its own (`projection:<member>`). Until
 * the combined checkpoint passes it, the member is given only the events after it, and once
 * passed, that checkpoint is deleted in the same transaction: switching from separate
 * projections to a combined one neither applies an event twice nor skips one. (Old code still
 * running the members separately at the same time would; stop it before starting the combined one.)
 * It remembers when those checkpoints are gone, so one combined projection serves one database.
 */
export function combineProjections(name: string, members: readonly Projection[]): Projection {
  const names = members.map((member) => member.name);
  if (new Set(names).size !== names.length) throw new Error(`combined projection ${name} names a member twice`);
  const memberCheckpoints = names.map(projectionCheckpointName);
  // Until a batch has seen none of the members' own checkpoints: none is created again once gone.
  let formerCheckpointsGone = false;

  return {
    name,
    migrations: members.flatMap((member) => member.migrations ?? []),
    takesOverCheckpoints: memberCheckpoints,
    async handle(tx, events) {
      let former = new Map<string, LogPosition>();
      if (!formerCheckpointsGone) {
        const { rows } = await tx.query<{ name: string; transaction_id: bigint; global_position: bigint }>(
          `select name, transaction_id, global_position from consumer_checkpoints
           where name in (select jsonb_array_elements_text($1::jsonb)) for update`,
          [JSON.stringify(memberCheckpoints)],
        );
        if (rows.length === 0) formerCheckpointsGone = true;
        former = new Map(
          rows.map((row) => [row.name, { transactionId: row.transaction_id, globalPosition: row.global_position }]),
        );
      }
      const last = events.at(-1);
      for (const [index, member] of members.entries()) {
        const checkpointName = memberCheckpoints[index]!;
        const after = former.get(checkpointName);
        const due = after === undefined ? events : events.filter((event) => compareLogPositions(event, after) > 0);
        // In a rebuild, each member's writes wait in a lane of their own until every member has
        // read: the page's transaction then takes its transaction id only for the writes.
        if (due.length > 0) await member.handle(writeLane(tx), due);
        if (after !== undefined && last !== undefined && compareLogPositions(last, after) >= 0) {
          await tx.query("delete from consumer_checkpoints where name = $1", [checkpointName]);
        }
      }
    },
  };
}
