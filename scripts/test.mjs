#!/usr/bin/env node
// Runs every *.test.ts / *.test.tsx in the workspace with Node's test runner (TypeScript through tsx).
// `npm test -- packages/event-store` narrows the run to paths under the given folders.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const roots = process.argv.slice(2).length ? process.argv.slice(2) : ["packages", "apps", "bench", "deploy"];
const skip = new Set(["node_modules", "dist", ".data", "gen"]);

function* walk(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    if (skip.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (/\.test\.tsx?$/.test(entry.name)) yield relative(root, path);
  }
}

const files = roots.flatMap((dir) => [...walk(join(root, dir))]).sort();
if (files.length === 0) {
  console.error("no test files found under", roots.join(", "));
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  [
    "--import",
    "tsx",
    "--test",
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    `--test-reporter=${join(root, "scripts/summary-reporter.mjs")}`,
    "--test-reporter-destination=stdout",
    "--test-concurrency=2",
    // Per file: the scale-out resilience file runs seven scenarios of role processes, Kafka
    // rebalances and Redis restarts, 50-200 s on a 2-core machine; a hung file still ends.
    "--test-timeout=300000",
    ...files,
  ],
  { cwd: root, stdio: "inherit", env: { ...process.env, NODE_ENV: "test" } },
);
process.exit(result.status ?? 1);
