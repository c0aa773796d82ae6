// For tests: folds every event not yet applied into the read models, each batch in one transaction.
import type { Database } from "@sluice/database";
import { startOfLog, type EventStore, type LogPosition } from "@sluice/event-store";
import type { ReadModel } from "./projection";

const positions = new WeakMap<Database, LogPosition>();

export async function catchUp(db: Database, store: EventStore, readModels: readonly ReadModel[]): Promise<void> {
  let after = positions.get(db) ?? startOfLog;
  for (;;) {
    const batch = await store.readAll({ after, limit: 100 });
    const last = batch.at(-1);
    if (!last) break;
    await db.transaction(async (tx) => {
      for (const readModel of readModels) await readModel.handle(tx, batch);
    });
    after = { transactionId: last.transactionId, globalPosition: last.globalPosition };
  }
  positions.set(db, after);
}
