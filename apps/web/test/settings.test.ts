// The Settings app against the real server (embedded shape, in-memory database) and the built web
// app: an owner invites someone, who joins from the link in a second browser, is promoted, signs
// another of their devices out and is removed; and the token refresh that keeps every page signed in.
//
// Access tokens last 65 s here: the client SDK asks for a new one a minute before expiry, so every
// page refreshes and re-authenticates its socket every few seconds while the steps run.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import type { RunningServer } from "@sluice/server";
import { testServer } from "@sluice/server/test-support";
import { buildWebForTest, launchChromium, newDevice, signIn, step as photographedStep, waitUntilLive } from "./browser";

describe("settings: members, invitations, roles and sessions", () => {
  let web: Awaited<ReturnType<typeof buildWebForTest>> | undefined;
  let server: RunningServer;
  let browser: Browser;
  /** The server's log lines: the embedded shape logs each invitation's link there. */
  const logLines: string[] = [];
  let ana: Page;
  let nora: Page;
  let noraElsewhere: Page;

  before(async () => {
    web = await buildWebForTest();
    [server, browser] = await Promise.all([
      testServer({
        webDist: web.dir,
        accessTokenTtlSeconds: 65,
        logLevel: "info",
        logStream: { write: (line: string) => void logLines.push(line) },
      }),
      launchChromium(),
    ]);
    ana = await signIn(await newDevice(browser, server.url), "ana@acme.test");
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await web?.remove();
  });

  const step = (name: string, run: () => Promise<void>) =>
    photographedStep(name, () => [ana, nora, noraElsewhere], run);

  /** The link logged for the newest invitation of the run. */
  function invitationLink(): string {
    const link = logLines.flatMap((line) => /invitation link: (\S+?)["\\\s]/.exec(line)?.[1] ?? []).at(-1);
    assert.ok(link, "the server logged an invitation link");
    return link;
  }

  const settingsTab = (page: Page, name: string) =>
    page.getByRole("navigation", { name: "Settings modules" }).getByRole("link", { name });
  const memberRow = (page: Page, name: string) => page.getByTestId("member-row").and(page.getByRole("row", { name }));

  test("an owner invites a viewer, who joins, is made a dispatcher, signs another device out, and is removed", async () => {
    await step("ana invites nora as a viewer", async () => {
      await ana.getByRole("link", { name: /^Invitations/ }).click();
      const form = ana.getByRole("form", { name: "Invite someone" });
      await form.getByLabel("Email").fill("nora@acme.test");
      await form.getByLabel("Role").selectOption("viewer");
      await form.getByRole("button", { name: "Send invitation" }).click();
      await form.getByRole("status").filter({ hasText: "Invited nora@acme.test as Viewer" }).waitFor();
      await ana.getByTestId("invitation-row").filter({ hasText: "nora@acme.test" }).getByText("Viewer").waitFor();
    });

    await step("nora opens the link in her own browser, joins, and lands in the app as a viewer", async () => {
      nora = await newDevice(browser, server.url);
      await nora.goto(invitationLink());
      const form = nora.getByRole("form", { name: "Accept the invitation" });
      await form.getByLabel("Your name").fill("Nora Nowak");
      await form.getByLabel("Password").fill("correct horse battery staple");
      await form.getByRole("button", { name: "Join" }).click();
      await waitUntilLive(nora);
      await nora.getByRole("heading", { name: "Welcome, Nora" }).waitFor();
      // A viewer is offered no invitations, and reads the member list without controls.
      assert.equal(await nora.getByRole("link", { name: /^Invitations/ }).count(), 0);
      await nora.getByRole("link", { name: /^Members/ }).click();
      await memberRow(nora, "Ana Alvarez").getByText("Owner").waitFor();
      await memberRow(nora, "Nora Nowak").getByText("Viewer").waitFor();
      assert.equal(await nora.getByRole("button", { name: /^(Change the role|Remove)/ }).count(), 0);
      assert.equal(await settingsTab(nora, "Invitations").count(), 0);
      await settingsTab(nora, "Roles").click();
      await nora
        .getByRole("list", { name: "Roles" })
        .getByRole("listitem")
        .filter({ hasText: "Your role" })
        .getByText("Viewer")
        .waitFor();
    });

    await step("ana sees nora among the members and makes her a dispatcher", async () => {
      await settingsTab(ana, "Members").click();
      await ana
        .getByTestId("invitation-row")
        .waitFor({ state: "detached" })
        .catch(() => undefined);
      await memberRow(ana, "Nora Nowak").getByRole("button", { name: "Change the role of Nora Nowak" }).click();
      const dialog = ana.getByRole("dialog", { name: "Change the role of Nora Nowak" });
      // The dialog starts at the role: the keyboard picks it at once.
      await dialog.getByRole("combobox", { name: "Role" }).and(ana.locator(":focus")).waitFor();
      await dialog.getByRole("combobox", { name: "Role" }).selectOption("dispatcher");
      await dialog.getByRole("button", { name: "Change role" }).click();
      await dialog.waitFor({ state: "hidden" });
      await memberRow(ana, "Nora Nowak").getByText("Dispatcher").waitFor();
      // Nora's socket is closed for the role change; the app refreshes and shows her new role.
      await nora
        .getByRole("list", { name: "Roles" })
        .getByRole("listitem")
        .filter({ hasText: "Your role" })
        .getByText("Dispatcher")
        .waitFor();
      await nora.locator('[data-testid="connection-status"][data-state="connected"]').waitFor();
    });

    await step("nora signs in on a second device and signs it out from the first", async () => {
      noraElsewhere = await signIn(
        await newDevice(browser, server.url),
        "nora@acme.test",
        "correct horse battery staple",
      );
      await settingsTab(nora, "Sessions").click();
      const rows = nora.getByTestId("session-row");
      await rows.nth(1).waitFor();
      assert.equal(await rows.count(), 2);
      const current = nora.locator('[data-testid="session-row"][data-current="true"]');
      await current.getByText("This device").waitFor();
      assert.equal(await current.getByRole("button", { name: /^Sign out/ }).count(), 0);
      const other = rows.and(nora.locator(":not([data-current])"));
      await other.getByRole("button", { name: /^Sign out/ }).click();
      await nora.getByRole("dialog").getByRole("button", { name: "Sign out device" }).click();
      await other.waitFor({ state: "detached" });
      assert.equal(await rows.count(), 1);
      // The other device's socket is closed within seconds and it is sent to sign in again.
      await noraElsewhere.getByRole("heading", { name: "Sign in" }).waitFor({ timeout: 15_000 });
      await noraElsewhere.getByRole("alert").getByText("Your session ended. Please sign in again.").waitFor();
      // This device is still signed in.
      await nora.locator('[data-testid="connection-status"][data-state="connected"]').waitFor();
    });

    await step("ana removes nora; nora's window is sent to sign in", async () => {
      await memberRow(ana, "Nora Nowak").getByRole("button", { name: "Remove Nora Nowak" }).click();
      const dialog = ana.getByRole("dialog", { name: "Remove Nora Nowak?" });
      // A stray Enter must not remove anyone: the dialog starts on Cancel.
      await dialog.getByRole("button", { name: "Cancel" }).and(ana.locator(":focus")).waitFor();
      await dialog.getByRole("button", { name: "Remove member" }).click();
      await memberRow(ana, "Nora Nowak").waitFor({ state: "detached" });
      await nora.getByRole("heading", { name: "Sign in" }).waitFor({ timeout: 15_000 });
    });
  });

  test("before the access token expires, the app refreshes it and re-authenticates its socket in band", async () => {
    const page = await newDevice(browser, server.url);
    let sockets = 0;
    page.on("websocket", () => void sockets++);
    const refreshed = () =>
      page.waitForResponse(
        (response) => new URL(response.url()).pathname === "/auth/refresh" && response.status() === 200,
        { timeout: 20_000 },
      );
    // Such a short token is due at once: the first refresh comes with the socket's first connect.
    await Promise.all([refreshed(), signIn(page, "ben@acme.test")]);
    // Then the SDK's in-band re-authentication asks for one; the next is scheduled only when the
    // server acknowledged that token on the open socket.
    await refreshed();
    await refreshed();
    assert.equal(sockets, 1, "the socket was never reopened");
    await page.locator('[data-testid="connection-status"][data-state="connected"]').waitFor();
  });
});
