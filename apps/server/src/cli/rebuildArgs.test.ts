import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { RebuildProgress } from "@sluice/event-store";
import { formatProgress, progressWriter } from "./progressLine";
import { parseRebuildArgs, UsageError } from "./rebuildArgs";

describe("rebuild options", () => {
  test("a projection and a database, with defaults", () => {
    assert.deepEqual(parseRebuildArgs(["dispatch.read-models"], { DATA_DIR: "/var/sluice" }), {
      projection: "dispatch.read-models",
      database: { kind: "pglite", dataDir: "/var/sluice" },
      pageSize: 5000,
      maxPageMs: 50,
      resume: false,
      list: false,
    });
    const postgres = parseRebuildArgs(
      ["x", "--database", "postgres://u:p@db:5432/sluice", "--page-size", "20000", "--resume"],
      {},
    );
    assert.deepEqual(postgres.database, { kind: "postgres", url: "postgres://u:p@db:5432/sluice", maxConnections: 4 });
    assert.equal(postgres.pageSize, 20000);
    assert.equal(postgres.resume, true);
    assert.equal(parseRebuildArgs(["--list"], {}).list, true);
    assert.deepEqual(parseRebuildArgs(["x"], {}).database, { kind: "pglite", dataDir: ".data" });
  });

  const refused: [string[], RegExp][] = [
    [[], /name the projection/],
    [["a", "b"], /one projection at a time/],
    [["a", "--database", "mysql://x"], /--database must be a URL like postgres:/],
    [["a", "--database", "postgres://x/db", "--data-dir", "d"], /not both/],
    [["a", "--page-size", "0"], /at least 1/],
    [["a", "--page-size", "2.5"], /whole number/],
    [["a", "--max-page-ms", "0"], /more than 0/],
    [["a", "--nope"], /Unknown option '--nope'/],
  ];
  for (const [argv, message] of refused) {
    test(`refuses ${JSON.stringify(argv)}`, () => {
      assert.throws(
        () => parseRebuildArgs(argv, {}),
        (error: unknown) => error instanceof UsageError && message.test(error.message),
      );
    });
  }
});

describe("rebuild progress", () => {
  const progress = (over: Partial<RebuildProgress>): RebuildProgress => ({
    projection: "dispatch.read-models",
    phase: "building",
    eventsDone: 120_000,
    eventsTotal: 200_000,
    eventsPerSecond: 52_300.4,
    secondsLeft: 1.53,
    secondsElapsed: 2.3,
    ...over,
  });

  test("says how far, how fast and how long", () => {
    assert.equal(
      formatProgress(progress({})),
      "dispatch.read-models: 120,000 / 200,000 events (60%), 52,300 events/s, 1.5 s left",
    );
    assert.match(formatProgress(progress({ secondsLeft: 3725 })), /1 h 2 min left$/);
    assert.match(formatProgress(progress({ secondsLeft: undefined, eventsPerSecond: 0 })), /time left unknown yet$/);
    assert.match(formatProgress(progress({ phase: "swapping" })), /swapping in$/);
    assert.equal(
      formatProgress(progress({ phase: "done", eventsDone: 200_000 })),
      "dispatch.read-models: 200,000 events in 2.3 s",
    );
  });

  test("redraws one line on a terminal, writes spaced plain lines elsewhere", () => {
    let clock = 0;
    const tty = { text: "", isTTY: true, write: (t: string) => (tty.text += t) };
    const onTerminal = progressWriter(tty, 5_000, () => clock);
    onTerminal(progress({ eventsDone: 1 }));
    clock += 50;
    onTerminal(progress({ eventsDone: 2 })); // within 100 ms: skipped
    clock += 100;
    onTerminal(progress({ eventsDone: 3 }));
    onTerminal.end();
    assert.equal(tty.text.split("\r\x1b[2K").length, 3);
    assert.ok(tty.text.endsWith("\n"));

    clock = 0;
    const file = { text: "", write: (t: string) => (file.text += t) };
    const plain = progressWriter(file, 5_000, () => clock);
    plain(progress({ eventsDone: 1 }));
    clock += 1_000;
    plain(progress({ eventsDone: 2 })); // within 5 s: skipped
    plain(progress({ phase: "swapping" })); // a new phase: written
    clock += 5_000;
    plain(progress({ phase: "swapping", eventsDone: 4 }));
    plain.end();
    assert.equal(file.text.split("\n").filter(Boolean).length, 3);
    assert.doesNotMatch(file.text, /\r/);
  });
});
