import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { migrate, openDatabase } from "@sluice/database";
import { postgresTestUrl, testBackends } from "@sluice/database/testing";
import { createDispatchModule } from "@sluice/dispatch";
import { createEventStore, startProjection } from "@sluice/event-store";
import { fill, readModelRows } from "./rebuildTesting";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../../../", import.meta.url));

/** Runs the rebuild command as a user would (no TTY): its exit code and output. */
async function rebuildCommand(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ["--import", "tsx", "apps/server/src/cli/rebuild.ts", ...args],
      {
        cwd: root,
        env: { ...process.env, DATA_DIR: "" },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const postgres = (await testBackends()).find((backend) => backend.name === "postgres")!;

describe("the rebuild command", () => {
  test("rebuilds an embedded data directory (the server stopped) and shows progress in plain lines", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "sluice-rebuild-"));
    try {
      const db = await openDatabase({ kind: "pglite", dataDir });
      const store = await createEventStore(db);
      const dispatch = createDispatchModule({ db, store });
      await migrate(db, dispatch.migrations);
      await fill(store, 300);
      const live = await startProjection(db, store, dispatch.readModels);
      await live.caughtUp();
      await live.stop();
      const before = await readModelRows(db);
      await db.close();

      const { code, stdout, stderr } = await rebuildCommand([
        "dispatch.read-models",
        "--data-dir",
        dataDir,
        "--page-size",
        "200",
      ]);
      assert.equal(code, 0, stderr);
      assert.match(
        stdout,
        /^rebuilt dispatch\.read-models: \d[\d,]* events in .*events\/s\); swapped in .*dispatch_orders/m,
      );
      assert.match(stderr, /^dispatch\.read-models: 0 \/ [\d,]+ events \(0%\)/m);
      assert.match(stderr, /swapping in/);
      assert.doesNotMatch(stderr, /\r/, "no in-place redraw when the output is not a terminal");

      const reopened = await openDatabase({ kind: "pglite", dataDir });
      try {
        assert.deepEqual(await readModelRows(reopened), before);
      } finally {
        await reopened.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test("rebuilds on a PostgreSQL server while a live projection keeps running", { skip: postgres.skip }, async () => {
    const db = await postgres.open();
    try {
      const store = await createEventStore(db);
      const dispatch = createDispatchModule({ db, store });
      await migrate(db, dispatch.migrations);
      await fill(store, 300);
      const live = await startProjection(db, store, dispatch.readModels);
      try {
        await live.caughtUp();
        const before = await readModelRows(db);
        const { rows } = await db.query<{ schema: string }>("select current_schema() as schema");
        const url = new URL(postgresTestUrl);
        url.searchParams.set("options", `-c search_path=${rows[0]!.schema}`);
        const { code, stderr } = await rebuildCommand(["dispatch.read-models", "--database", url.toString()]);
        assert.equal(code, 0, stderr);
        assert.deepEqual(await readModelRows(db), before);
        // The live consumer goes on, on the tables swapped in under it.
        await fill(store, 100);
        await live.caughtUp();
        assert.ok((await readModelRows(db)).dispatch_projects!.length > before.dispatch_projects!.length);
      } finally {
        await live.stop();
      }
    } finally {
      await db.close();
    }
  });

  test("an unknown projection or a bad option is a usage error, exit code 2, naming what is known", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "sluice-rebuild-"));
    try {
      const db = await openDatabase({ kind: "pglite", dataDir });
      await createEventStore(db);
      await db.close();
      const unknown = await rebuildCommand(["dispatch.nothing", "--data-dir", dataDir]);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /unknown projection "dispatch\.nothing"; known: dispatch\.read-models/);
      const bad = await rebuildCommand(["dispatch.read-models", "--data-dir", dataDir, "--page-size", "lots"]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--page-size must be a number/);
      const missing = await rebuildCommand(["dispatch.read-models", "--data-dir", join(dataDir, "nope")]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /no database in/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
