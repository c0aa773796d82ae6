import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { migrate, type Database } from "@sluice/database";
import { testBackends } from "@sluice/database/testing";
import { createDispatchModule, type DispatchModule } from "@sluice/dispatch";
import { createEventStore, rebuildProjection, startProjection, type EventStore } from "@sluice/event-store";
import { fill, readModelRows } from "./rebuildTesting";

for (const backend of await testBackends()) {
  describe(`rebuilding Dispatch's read models on ${backend.name}`, { skip: backend.skip }, () => {
    let db: Database;
    let store: EventStore;
    let dispatch: DispatchModule;
    before(async () => {
      db = await backend.open();
      store = await createEventStore(db);
      dispatch = createDispatchModule({ db, store });
      await migrate(db, dispatch.migrations);
    });
    after(() => db?.close());

    test("rebuilt while the live projection runs and commands keep coming, every table equals the live one row for row", async () => {
      await fill(store, 600);
      const live = await startProjection(db, store, dispatch.readModels);
      try {
        await live.caughtUp();
        const liveRows = await readModelRows(db);
        assert.deepEqual(Object.keys(liveRows), [
          "dispatch_activity",
          "dispatch_activity_labels",
          "dispatch_orders",
          "dispatch_projects",
          "dispatch_route_stops",
          "dispatch_routes",
        ]);
        assert.ok(Object.values(liveRows).every((rows) => rows.length > 0));

        // Quiet: the rebuilt tables are the live ones, row for row.
        await rebuildProjection(db, store, dispatch.readModels, { pageSize: 500 });
        assert.deepEqual(await readModelRows(db), liveRows);

        // Busy: commands land while pages are applied and at the swap; the live consumer carries on after it.
        let during: Promise<unknown> = Promise.resolve();
        let calls = 0;
        await rebuildProjection(db, store, dispatch.readModels, {
          pageSize: 300,
          onProgress: (p) => {
            // A project's commands start at the first pages and at the swap.
            if ((p.phase === "building" && ++calls <= 3) || p.phase === "swapping")
              during = during.then(() => fill(store, 1));
          },
        });
        await during;
        await live.caughtUp();
        const afterBusy = await readModelRows(db);
        assert.ok(afterBusy.dispatch_projects!.length > liveRows.dispatch_projects!.length);
        // The truth: the same log folded from zero once more, quietly.
        await rebuildProjection(db, store, dispatch.readModels);
        assert.deepEqual(afterBusy, await readModelRows(db));
      } finally {
        await live.stop();
      }
    });
  });
}
