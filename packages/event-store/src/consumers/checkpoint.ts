import type { Queryable } from "@sluice/database";
import type { LogPosition } from "../types";

/** The place a consumer has processed the log up to; every consumer starts at the start of the log. */
export async function loadCheckpoint(db: Queryable, name: string): Promise<LogPosition> {
  await db.query(
    "insert into consumer_checkpoints (name, transaction_id, global_position) values ($1, '0', 0) on conflict (name) do nothing",
    [name],
  );
  const { rows } = await db.query<{ transaction_id: bigint; global_position: bigint }>(
    "select transaction_id, global_position from consumer_checkpoints where name = $1",
    [name],
  );
  const row = rows[0];
  if (!row) throw new Error(`checkpoint ${name} vanished`);
  return { transactionId: row.transaction_id, globalPosition: row.global_position };
}

/**
 * Moves the checkpoint from `from` to `to` inside the caller's transaction. Returns false, writing
 * nothing, when it is no longer at `from`: another instance of the same consumer processed the
 * batch first, and this one must roll back and reload. One statement: the update locks the row,
 * and on PostgreSQL one that waited on another instance's lock re-checks the condition against
 * the row that instance committed.
 */
export async function advanceCheckpoint(
  tx: Queryable,
  name: string,
  from: LogPosition,
  to: LogPosition,
): Promise<boolean> {
  const { rows } = await tx.query<{ name: string }>(
    `update consumer_checkpoints set transaction_id = $4::text::xid8, global_position = $5, updated_at = now()
     where name = $1 and transaction_id = $2::text::xid8 and global_position = $3
     returning name`,
    [
      name,
      from.transactionId.toString(),
      from.globalPosition.toString(),
      to.transactionId.toString(),
      to.globalPosition.toString(),
    ],
    { name: "consumer-checkpoint.advance" },
  );
  return rows.length === 1;
}

/** Log order: by transaction id, then global position. */
export function compareLogPositions(a: LogPosition, b: LogPosition): number {
  if (a.transactionId !== b.transactionId) return a.transactionId < b.transactionId ? -1 : 1;
  if (a.globalPosition !== b.globalPosition) return a.globalPosition < b.globalPosition ? -1 : 1;
  return 0;
}
