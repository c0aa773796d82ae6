// What the browser tests share: Debian's Chromium through playwright-core, a signed-in page per
// person (each in its own context: its own cookies, like another device), and photographs of every
// page when a step fails.
import { mkdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { buildWeb } from "../src/build";

const resultsDir = fileURLToPath(new URL("../test-results", import.meta.url));

/**
 * Builds the SPA from the current sources into a folder of the calling test's own: always built (a
 * dist left from older sources would test the wrong app), and never into a folder another test,
 * running alongside, is serving from. `remove` deletes it afterwards.
 */
export async function buildWebForTest(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "sluice-web-"));
  await buildWeb(dir);
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A fresh context (another device: cookies of its own) with one page on the server. */
export async function newDevice(browser: Browser, baseURL: string): Promise<Page> {
  const context: BrowserContext = await browser.newContext({ baseURL, viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  return page;
}

/** Signs in through the sign-in page and waits for the launcher and a live socket. */
export async function signIn(page: Page, email: string, password = "dispatch"): Promise<Page> {
  await page.goto("/");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await waitUntilLive(page);
  return page;
}

/** The launcher is up and the socket connected. */
export async function waitUntilLive(page: Page): Promise<void> {
  await page.getByRole("heading", { name: /^Welcome/ }).waitFor();
  await page.locator('[data-testid="connection-status"][data-state="connected"]').waitFor();
}

/** Runs a step; when it fails, every page given is photographed into test-results/. */
export async function step(
  name: string,
  pages: () => Array<Page | undefined>,
  run: () => Promise<void>,
): Promise<void> {
  try {
    await run();
  } catch (error) {
    mkdirSync(resultsDir, { recursive: true });
    const file = name.replace(/\W+/g, "-");
    await Promise.all(
      pages().map((page, index) =>
        page?.screenshot({ path: `${resultsDir}/${file}-${index + 1}.png`, fullPage: true }).catch(() => undefined),
      ),
    );
    throw error;
  }
}
