import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { openDatabase, type Database } from "@sluice/database";
import { errorOf, SdkClient, testApp, type TestApp } from "./http-test-client";
import { defaultSignInLimits } from "./sign-in-throttle";

const minute = 60_000;

// Brute force on sign-in, over HTTP with the default limits: 5 wrong passwords lock an email.
describe("sign-in throttle", () => {
  let db: Database;
  let t: TestApp;

  before(async () => {
    db = await openDatabase({ kind: "pglite" });
    t = await testApp(db);
  });
  after(async () => {
    await t?.close();
    await db?.close();
  });

  const attempt = (email: string, password: string, address = "10.0.0.1") =>
    t.app.inject({
      method: "POST",
      url: "/auth/signin",
      headers: { "x-sluice-client": "sdk" },
      remoteAddress: address,
      payload: { email, password },
    });

  test("five wrong passwords lock the email out, with Retry-After, until the lockout ends", async () => {
    const { failuresBeforeLockout, lockoutSeconds } = defaultSignInLimits.perEmail;
    for (let i = 0; i < failuresBeforeLockout; i++) {
      assert.equal((await attempt("ben@acme.test", `guess ${i}`)).statusCode, 401);
    }
    const locked = await attempt("ben@acme.test", "dispatch");
    assert.deepEqual(errorOf(locked), {
      status: 429,
      code: "RESOURCE_EXHAUSTED",
      message: "too many sign-in attempts: try again later",
    });
    assert.equal(locked.headers["retry-after"], String(lockoutSeconds));
    assert.equal(locked.headers["set-cookie"], undefined);

    // Locked for the email, from any address; other emails from the same address go on.
    assert.equal((await attempt("ben@acme.test", "dispatch", "10.0.0.99")).statusCode, 429);
    assert.equal((await attempt("vera@acme.test", "dispatch")).statusCode, 200);

    t.clock.advance(lockoutSeconds * 1000 - 5_000);
    const almost = await attempt("ben@acme.test", "dispatch");
    assert.equal(almost.statusCode, 429);
    assert.equal(almost.headers["retry-after"], "5");
    t.clock.advance(5_000);
    assert.equal((await attempt("ben@acme.test", "dispatch")).statusCode, 200, "released after the window");
  });

  test("an unknown email gets exactly the replies a known one gets", async () => {
    const replies = async (email: string) => {
      const seen = [];
      for (let i = 0; i < 6; i++) {
        const response = await attempt(email, "wrong", "10.0.0.2");
        seen.push([response.statusCode, response.body, response.headers["retry-after"]]);
      }
      return seen;
    };
    const known = await replies("vera@acme.test");
    const unknown = await replies("nobody@acme.test");
    assert.deepEqual(unknown, known);
    assert.equal(known.at(-1)?.[0], 429);
    t.clock.advance(defaultSignInLimits.perEmail.lockoutSeconds * 1000);
  });

  test("a success clears the email's failures", async () => {
    for (let i = 0; i < 4; i++) await attempt("gina@globex.test", "wrong", "10.0.0.3");
    assert.equal((await attempt("gina@globex.test", "dispatch", "10.0.0.3")).statusCode, 200);
    for (let i = 0; i < 4; i++) assert.equal((await attempt("gina@globex.test", "wrong", "10.0.0.3")).statusCode, 401);
    assert.equal((await attempt("gina@globex.test", "dispatch", "10.0.0.3")).statusCode, 200);
  });

  test("one address spraying many emails is rate limited, then locked out", async () => {
    const db2 = await openDatabase({ kind: "pglite" });
    const small = await testApp(db2, {
      signInLimits: {
        perEmail: defaultSignInLimits.perEmail,
        perAddress: { attemptsPerMinute: 6, failuresBeforeLockout: 10, failureWindowSeconds: 900, lockoutSeconds: 600 },
      },
    });
    try {
      const spray = (i: number, address = "10.9.9.9") =>
        small.app.inject({
          method: "POST",
          url: "/auth/signin",
          remoteAddress: address,
          payload: { email: `user${i}@acme.test`, password: "guess" },
        });
      for (let i = 0; i < 6; i++) assert.equal((await spray(i)).statusCode, 401);
      const limited = await spray(6);
      assert.equal(limited.statusCode, 429);
      assert.ok(Number(limited.headers["retry-after"]) > 0 && Number(limited.headers["retry-after"]) <= 60);
      assert.equal((await spray(6, "10.9.9.10")).statusCode, 401, "another address is not affected");

      small.clock.advance(minute);
      for (let i = 10; i < 14; i++) assert.equal((await spray(i)).statusCode, 401);
      const locked = await spray(20);
      assert.equal(locked.statusCode, 429);
      assert.equal(locked.headers["retry-after"], "600");
      small.clock.advance(10 * minute);
      assert.equal((await spray(21)).statusCode, 401, "released");
    } finally {
      await small.close();
      await db2.close();
    }
  });

  test("wrong current passwords count toward the lockout too", async () => {
    const sdk = new SdkClient(t.app);
    await sdk.signIn("ana@acme.test");
    for (let i = 0; i < 5; i++) {
      const response = await sdk.request("POST", "/auth/password", {
        currentPassword: `guess ${i}`,
        newPassword: "whatever-1",
      });
      assert.equal(errorOf(response).code, "PERMISSION_DENIED");
    }
    const locked = await sdk.request("POST", "/auth/password", {
      currentPassword: "dispatch",
      newPassword: "whatever-1",
    });
    assert.equal(locked.statusCode, 429);
  });
});
