import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/** Where `npm run build -w @sluice/web` puts the SPA; the server serves it. */
export const webDist = fileURLToPath(new URL("../dist", import.meta.url));

const webRoot = fileURLToPath(new URL("..", import.meta.url));

/**
 * Builds the SPA as `npm run build` does, in a child process with NODE_ENV=production: a test
 * runner's NODE_ENV=test would otherwise give React's development build. `outDir` (emptied first)
 * defaults to `webDist`; tests that run side by side each build into their own.
 */
export async function buildWeb(outDir: string = webDist): Promise<void> {
  const vite = join(dirname(createRequire(import.meta.url).resolve("vite/package.json")), "bin/vite.js");
  await promisify(execFile)(process.execPath, [vite, "build", "--logLevel", "warn", "--outDir", outDir], {
    cwd: webRoot,
    env: { ...process.env, NODE_ENV: "production" },
  });
}
