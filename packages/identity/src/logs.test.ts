import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { openDatabase, type Database } from "@sluice/database";
import { BrowserClient, SdkClient, testApp, type TestApp } from "./http-test-client";

// Everything the plugin and Fastify log while identity works, at the most verbose level, holds no
// password, token or email; the one exception is the invitation link, which carries its token.
describe("identity logs", () => {
  let db: Database;
  let t: TestApp;
  const lines: string[] = [];

  before(async () => {
    db = await openDatabase({ kind: "pglite" });
    t = await testApp(db, {}, { logger: { level: "trace", stream: { write: (line: string) => lines.push(line) } } });
  });
  after(async () => {
    await t?.close();
    await db?.close();
  });

  test("no password, token or email in any log line", async () => {
    const secrets: string[] = [];
    const emails = ["ana@acme.test", "ben@acme.test", "quinn@quarry.test", "nadia@acme.test", "nobody@acme.test"];
    const passwords = ["dispatch", "quarry-secret", "nadia-secret", "wrong-guess", "brand-new-pass"];

    const quinn = new SdkClient(t.app);
    const signedUp = await quinn.request("POST", "/auth/signup", {
      organizationName: "Quarry Ltd",
      displayName: "Quinn",
      email: "quinn@quarry.test",
      password: "quarry-secret",
    });
    assert.equal(signedUp.statusCode, 201);
    secrets.push(quinn.accessToken, quinn.refreshToken);
    await quinn.refresh();
    secrets.push(quinn.accessToken, quinn.refreshToken);

    const browser = new BrowserClient(t.app);
    await browser.signIn("ana@acme.test");
    secrets.push(...browser.cookies.values());
    await browser.request("POST", "/auth/refresh");
    secrets.push(...browser.cookies.values());
    const invited = await browser.request("POST", "/auth/invitations", { email: "nadia@acme.test", role: "viewer" });
    assert.equal(invited.statusCode, 201);
    const linkLines = lines.filter((line) => line.includes("invitation link: "));
    assert.equal(linkLines.length, 1);
    const link = (JSON.parse(linkLines[0]!) as { msg: string }).msg.slice("invitation link: ".length);
    assert.match(link, /^http:\/\/localhost:80\/accept-invitation#token=[\w-]{43}$/);
    const invitationToken = new URL(link).hash.slice("#token=".length);

    const nadia = new SdkClient(t.app);
    await nadia.request("POST", "/auth/invitations/accept", {
      token: invitationToken,
      displayName: "Nadia",
      password: "nadia-secret",
    });
    secrets.push(nadia.accessToken, nadia.refreshToken);
    await nadia.request("POST", "/auth/password", { currentPassword: "nadia-secret", newPassword: "brand-new-pass" });

    for (let i = 0; i < 6; i++) await new SdkClient(t.app).signIn("ben@acme.test", "wrong-guess");
    await new SdkClient(t.app).signIn("nobody@acme.test", "wrong-guess");
    await new SdkClient(t.app).request("POST", "/auth/signin", {
      email: "ana@acme.test",
      password: "dispatch",
      extra: 1,
    });
    await t.app.inject({
      method: "POST",
      url: "/auth/signin",
      headers: { "content-type": "application/json" },
      payload: `{"email":"ana@acme.test","password":"dispatch"`,
    });
    await browser.request("POST", "/auth/signout", { scope: "all" });

    assert.ok(lines.length > 20, "the logger saw the requests");
    const logged = lines.filter((line) => !line.includes("invitation link: ")).join("\n");
    for (const value of [...secrets, invitationToken]) {
      assert.ok(value.length >= 20);
      assert.ok(!logged.includes(value), "a token was logged");
    }
    for (const email of emails) assert.ok(!lines.join("\n").includes(email), `${email} was logged`);
    for (const password of passwords) assert.ok(!lines.join("\n").includes(password), `a password was logged`);
  });
});
