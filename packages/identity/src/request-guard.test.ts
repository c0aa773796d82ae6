import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { openDatabase, type Database } from "@sluice/database";
import { BrowserClient, errorOf, SdkClient, testApp, type TestApp } from "./http-test-client";

// Origin and CSRF: checked before any handler, so a refused request changes nothing.
describe("request guard", () => {
  let db: Database;
  let t: TestApp;

  before(async () => {
    db = await openDatabase({ kind: "pglite" });
    t = await testApp(db, { allowedOrigins: ["http://localhost:5173"] });
  });
  after(async () => {
    await t?.close();
    await db?.close();
  });

  async function liveSessions(client: BrowserClient) {
    const response = await client.request("GET", "/auth/sessions");
    return response.json<{ sessions: unknown[] }>().sessions.length;
  }

  test("a cookie-authenticated change without the CSRF header is refused and changes nothing", async () => {
    const browser = new BrowserClient(t.app);
    await browser.signIn("vera@acme.test");
    const sessions = await liveSessions(browser);
    browser.echoCsrf = false;
    const missing = await browser.request("POST", "/auth/signout", { scope: "all" });
    assert.deepEqual(errorOf(missing), {
      status: 403,
      code: "PERMISSION_DENIED",
      message: "send the sluice_csrf cookie's value in the x-sluice-csrf header",
    });
    const mismatched = await browser.request("POST", "/auth/signout", { scope: "all" }, { "x-sluice-csrf": "guess" });
    assert.equal(errorOf(mismatched).status, 403);
    assert.match(errorOf(mismatched).message, /does not match/);
    assert.equal(await liveSessions(browser), sessions, "nothing was signed out");

    browser.echoCsrf = true;
    assert.equal((await browser.request("POST", "/auth/signout")).statusCode, 204);
  });

  test("reads need no CSRF header; bearer requests are exempt; refresh is checked by Origin only", async () => {
    const browser = new BrowserClient(t.app);
    await browser.signIn("ben@acme.test");
    browser.echoCsrf = false;
    assert.equal((await browser.request("GET", "/auth/members")).statusCode, 200);
    assert.equal((await browser.request("POST", "/auth/refresh")).statusCode, 200);

    const sdk = new SdkClient(t.app);
    await sdk.signIn("ben@acme.test");
    const password = await sdk.request("POST", "/auth/password", {
      currentPassword: "nope",
      newPassword: "whatever-1",
    });
    assert.equal(errorOf(password).code, "PERMISSION_DENIED");
    assert.match(errorOf(password).message, /current password/, "reached the handler: no CSRF needed");
  });

  test("a foreign Origin is refused on every route that changes something, signed in or not", async () => {
    const browser = new BrowserClient(t.app);
    await browser.signIn("ben@acme.test");
    const evil = { origin: "https://evil.example" };
    const attempts: [method: "POST" | "PATCH" | "DELETE", url: string, body?: object][] = [
      ["POST", "/auth/signin", { email: "ben@acme.test", password: "dispatch" }],
      ["POST", "/auth/signup", { organizationName: "X", displayName: "X", email: "x@x.test", password: "password1" }],
      ["POST", "/auth/refresh"],
      ["POST", "/auth/signout"],
      ["POST", "/auth/password", { currentPassword: "dispatch", newPassword: "password1" }],
      ["POST", "/auth/invitations", { email: "x@x.test", role: "viewer" }],
      ["POST", "/auth/invitations/accept", { token: "t", password: "password1" }],
      ["PATCH", "/auth/members/someone", { role: "viewer" }],
      ["DELETE", "/auth/members/someone"],
      ["DELETE", "/auth/sessions/some-id"],
      ["DELETE", "/auth/invitations/some-id"],
    ];
    for (const [method, url, body] of attempts) {
      const response = await browser.request(method, url, body, evil);
      assert.deepEqual(
        errorOf(response),
        {
          status: 403,
          code: "PERMISSION_DENIED",
          message: "requests from another origin may not change anything here",
        },
        `${method} ${url}`,
      );
      assert.equal(response.headers["set-cookie"], undefined, `${method} ${url} set no cookie`);
    }
    assert.equal((await browser.request("GET", "/auth/me", undefined, evil)).statusCode, 200, "reads are not refused");
    const own = await browser.request("POST", "/auth/refresh", undefined, { origin: "http://localhost:80" });
    assert.equal(own.statusCode, 200, "the server's own origin is fine");
  });

  test("an origin in the allow list may change things", async () => {
    const response = await new BrowserClient(t.app).signIn("ana@acme.test", "dispatch", {});
    assert.equal(response.statusCode, 200);
    const fromDev = await new BrowserClient(t.app).request(
      "POST",
      "/auth/signin",
      { email: "ana@acme.test", password: "dispatch" },
      { origin: "http://localhost:5173" },
    );
    assert.equal(fromDev.statusCode, 200);
  });
});
