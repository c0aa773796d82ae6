import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Role } from "@sluice/contracts";
import type { Database } from "@sluice/database";
import { testBackends } from "@sluice/database/testing";
import { BrowserClient, errorOf, SdkClient, testApp, type TestApp } from "./http-test-client";
import { createIdentity } from "./identity";
import { lowHashCost } from "./password-hasher";
import type { Revocation } from "./revocations";

// Sessions over HTTP: refresh rotation and reuse, sign-out, the sessions list, password change.
for (const backend of await testBackends()) {
  describe(`sessions on ${backend.name}`, { skip: backend.skip }, () => {
    let db: Database;
    let t: TestApp;
    const revocations: Revocation[] = [];

    before(async () => {
      db = await backend.open();
      t = await testApp(db, { refreshReuseGraceSeconds: 5 });
      t.identity.onRevoked((revocation) => revocations.push(revocation));
    });
    after(async () => {
      await t?.close();
      await db?.close();
    });

    test("a browser signs in with three cookies and no refresh token in the body", async () => {
      const browser = new BrowserClient(t.app);
      const response = await browser.signIn("ben@acme.test");
      assert.equal(response.statusCode, 200);
      const body = response.json<Record<string, unknown>>();
      assert.equal(Object.hasOwn(body, "refreshToken"), false);
      const byName = new Map(response.cookies.map((c) => [c.name, c]));
      const refresh = byName.get("sluice_refresh");
      const csrf = byName.get("sluice_csrf");
      assert.ok(refresh && csrf);
      assert.equal(refresh.httpOnly, true);
      assert.equal(refresh.sameSite, "Strict");
      assert.equal(refresh.path, "/auth");
      assert.notEqual(csrf.httpOnly, true, "the SPA reads the CSRF cookie");
      assert.equal(csrf.sameSite, "Strict");
      assert.equal(csrf.path, "/");
      const { rows } = await db.query<{ token_hash: string }>("SELECT token_hash FROM refresh_tokens");
      assert.ok(!rows.some((row) => row.token_hash === refresh.value), "only a hash of the token is stored");
    });

    test("an SDK client gets the refresh token in the body and no cookies", async () => {
      const sdk = new SdkClient(t.app);
      const response = await sdk.signIn("ben@acme.test");
      assert.equal(response.statusCode, 200);
      assert.equal(response.cookies.length, 0);
      assert.ok(sdk.refreshToken.length >= 40);
    });

    test("refresh rotates the token: a new access and refresh token, the old refresh token spent", async () => {
      const sdk = new SdkClient(t.app);
      await sdk.signIn("ben@acme.test");
      const first = { access: sdk.accessToken, refresh: sdk.refreshToken };
      t.clock.advance(1000);
      const refreshed = await sdk.refresh();
      assert.equal(refreshed.statusCode, 200);
      assert.notEqual(sdk.refreshToken, first.refresh);
      assert.notEqual(sdk.accessToken, first.access);
      const before = (await t.identity.verifyAccessToken(first.access)).sessionId;
      assert.equal((await t.identity.verifyAccessToken(sdk.accessToken)).sessionId, before, "same session");
      assert.equal((await sdk.request("GET", "/auth/me")).statusCode, 200);
    });

    test("a browser refreshes by cookie, keeping its CSRF value", async () => {
      const browser = new BrowserClient(t.app);
      await browser.signIn("vera@acme.test");
      const csrf = browser.cookies.get("sluice_csrf");
      const refresh = browser.cookies.get("sluice_refresh");
      const response = await browser.request("POST", "/auth/refresh");
      assert.equal(response.statusCode, 200);
      assert.notEqual(browser.cookies.get("sluice_refresh"), refresh);
      assert.equal(browser.cookies.get("sluice_csrf"), csrf);
      const without = await new BrowserClient(t.app).request("POST", "/auth/refresh");
      assert.equal(errorOf(without).status, 401);
      const sdkWithout = await new SdkClient(t.app).request("POST", "/auth/refresh", {});
      assert.equal(errorOf(sdkWithout).code, "INVALID_ARGUMENT");
    });

    test("a replayed refresh token revokes the whole family, and listeners hear of it", async () => {
      const sdk = new SdkClient(t.app);
      await sdk.signIn("ana@acme.test");
      const stolen = sdk.refreshToken;
      t.clock.advance(1000);
      await sdk.refresh();
      await sdk.refresh();
      const current = sdk.accessToken;
      const sessionId = (await t.identity.verifyAccessToken(current)).sessionId;

      // Within the grace window, a second use is refused but kills nothing (two tabs at once).
      const racing = await new SdkClient(t.app).refresh(stolen);
      assert.equal(errorOf(racing).status, 401);

      t.clock.advance(6000);
      revocations.length = 0;
      const replay = await new SdkClient(t.app).refresh(stolen);
      assert.deepEqual(errorOf(replay), {
        status: 401,
        code: "UNAUTHENTICATED",
        message: "refresh token was already used: the session is revoked, sign in again",
      });
      assert.deepEqual(revocations, [{ kind: "sessions", sessionIds: [sessionId] }]);
      // The legitimate holder's newer tokens died with the family.
      assert.equal(errorOf(await sdk.refresh()).status, 401);
      await assert.rejects(t.identity.verifyAccessToken(current), /signed out/);
    });

    test("refresh within the grace window is refused without revoking", async () => {
      const sdk = new SdkClient(t.app);
      await sdk.signIn("vera@acme.test");
      const old = sdk.refreshToken;
      await sdk.refresh();
      const racing = await new SdkClient(t.app).refresh(old);
      assert.match(errorOf(racing).message, /just replaced/);
      assert.equal((await sdk.refresh()).statusCode, 200, "the session lives on");
    });

    test("sign-out (device) revokes this session only; sign-out all revokes every session", async () => {
      const phone = new BrowserClient(t.app);
      const laptop = new BrowserClient(t.app);
      const tablet = new SdkClient(t.app);
      await phone.signIn("gina@globex.test");
      await laptop.signIn("gina@globex.test");
      await tablet.signIn("gina@globex.test");

      const out = await phone.request("POST", "/auth/signout", { scope: "device" });
      assert.equal(out.statusCode, 204);
      assert.equal(phone.cookies.size, 0, "all three cookies cleared");
      assert.equal((await laptop.request("GET", "/auth/me")).statusCode, 200);

      revocations.length = 0;
      const all = await laptop.request("POST", "/auth/signout", { scope: "all" });
      assert.equal(all.statusCode, 204);
      assert.equal((await tablet.request("GET", "/auth/me")).statusCode, 401);
      assert.equal(errorOf(await tablet.refresh()).status, 401);
      assert.equal(revocations.length, 1);
      assert.equal(revocations[0]?.kind === "sessions" && revocations[0].sessionIds.length, 2);
    });

    test("sign-out with only the refresh cookie (access cookie expired) still revokes the session", async () => {
      const browser = new BrowserClient(t.app);
      await browser.signIn("ben@acme.test");
      const refresh = browser.cookies.get("sluice_refresh")!;
      browser.cookies.delete("sluice_access");
      assert.equal((await browser.request("POST", "/auth/signout")).statusCode, 204);
      const sdk = new SdkClient(t.app);
      assert.equal(errorOf(await sdk.refresh(refresh)).status, 401);
    });

    test("the sessions list names each device; revoking one ends it; another user's id is NOT_FOUND", async () => {
      const desk = new SdkClient(t.app);
      const phone = new BrowserClient(t.app);
      await desk.signIn("vera@acme.test");
      await phone.signIn("vera@acme.test");
      const listed = await desk.request("GET", "/auth/sessions");
      assert.equal(listed.statusCode, 200);
      const sessions = listed.json<{
        sessions: { id: string; userAgent: string; current: boolean; createdAt: number; lastUsedAt: number }[];
      }>().sessions;
      const mine = sessions.find((s) => s.current);
      const phoneSession = sessions.find((s) => s.userAgent === "TestBrowser/1.0");
      assert.ok(mine && phoneSession);
      assert.equal(mine.userAgent, "TestSdk/1.0");
      assert.equal(sessions.filter((s) => s.current).length, 1);

      const other = new SdkClient(t.app);
      await other.signIn("ben@acme.test");
      const foreign = await other.request("DELETE", `/auth/sessions/${phoneSession.id}`);
      assert.equal(errorOf(foreign).code, "NOT_FOUND");
      assert.equal((await phone.request("GET", "/auth/me")).statusCode, 200);

      assert.equal((await desk.request("DELETE", `/auth/sessions/${phoneSession.id}`)).statusCode, 204);
      assert.equal((await phone.request("GET", "/auth/me")).statusCode, 401);
      const after = (await desk.request("GET", "/auth/sessions")).json<{ sessions: { id: string }[] }>().sessions;
      assert.ok(!after.some((s) => s.id === phoneSession.id));
    });

    test("changing the password needs the current one, and signs out every other session", async () => {
      const here = new SdkClient(t.app);
      const there = new SdkClient(t.app);
      await here.signIn("ben@acme.test");
      await there.signIn("ben@acme.test");

      const wrong = await here.request("POST", "/auth/password", {
        currentPassword: "nope",
        newPassword: "longer-secret",
      });
      assert.equal(errorOf(wrong).code, "PERMISSION_DENIED");
      const short = await here.request("POST", "/auth/password", { currentPassword: "dispatch", newPassword: "short" });
      assert.equal(errorOf(short).code, "INVALID_ARGUMENT");

      revocations.length = 0;
      const changed = await here.request("POST", "/auth/password", {
        currentPassword: "dispatch",
        newPassword: "longer-secret",
      });
      assert.equal(changed.statusCode, 204);
      assert.equal((await here.request("GET", "/auth/me")).statusCode, 200, "this session stays");
      assert.equal((await there.request("GET", "/auth/me")).statusCode, 401);
      assert.equal(revocations[0]?.kind, "sessions");

      assert.equal((await new SdkClient(t.app).signIn("ben@acme.test", "dispatch")).statusCode, 401);
      assert.equal((await new SdkClient(t.app).signIn("ben@acme.test", "longer-secret")).statusCode, 200);
      await here.request("POST", "/auth/password", { currentPassword: "longer-secret", newPassword: "dispatch" });
    });

    test("a revoked session stops verifying at once in this process, even a token verified before", async () => {
      const { accessToken, session } = await t.identity.signIn("vera@acme.test", "dispatch");
      await t.identity.verifyAccessToken(accessToken);
      await t.identity.signOut(session.sessionId);
      await assert.rejects(t.identity.verifyAccessToken(accessToken), /signed out/);
    });

    test(
      "another process on the same database hears of revocations and refuses the tokens",
      { timeout: 20_000 },
      async () => {
        const other = await createIdentity({ db, hashCost: lowHashCost, now: t.clock.now, revocationPollMs: 20 });
        try {
          const heard: Revocation[] = [];
          const told = new Promise<void>((resolve) => {
            other.onRevoked((revocation) => {
              heard.push(revocation);
              if (heard.length === 2) resolve();
            });
          });
          const sdk = new SdkClient(t.app);
          await sdk.signIn("ben@acme.test");
          const benSession = await other.verifyAccessToken(sdk.accessToken);
          const vera = await t.identity.signIn("vera@acme.test", "dispatch");
          assert.equal((await other.verifyAccessToken(vera.accessToken)).role, Role.VIEWER);

          await sdk.request("POST", "/auth/signout");
          const ana = new SdkClient(t.app);
          await ana.signIn("ana@acme.test");
          const changed = await ana.request("PATCH", `/auth/members/${vera.user.id}`, { role: "dispatcher" });
          assert.equal(changed.statusCode, 200);

          // The poll's timer does not hold the process open (a server's sockets do): this test must.
          const holdOpen = setInterval(() => {}, 1000);
          await told.finally(() => clearInterval(holdOpen));
          // Both, in either order: the poll reads what has committed, and two revocations may land in one read.
          const byKind = (a: Revocation, b: Revocation) => a.kind.localeCompare(b.kind);
          assert.deepEqual(heard.toSorted(byKind), [
            { kind: "member", userId: vera.user.id, organizationId: vera.user.organizationId },
            { kind: "sessions", sessionIds: [benSession.sessionId] },
          ]);
          await assert.rejects(other.verifyAccessToken(sdk.accessToken), /signed out/);
          assert.equal((await other.verifyAccessToken(vera.accessToken)).role, Role.DISPATCHER, "read from the rows");
          await ana.request("PATCH", `/auth/members/${vera.user.id}`, { role: "viewer" });
        } finally {
          other.close();
        }
      },
    );
  });
}
