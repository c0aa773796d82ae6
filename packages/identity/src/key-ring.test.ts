import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from "jose";
import type { Database } from "@sluice/database";
import { testBackends } from "@sluice/database/testing";
import { createIdentity } from "./identity";
import { SdkClient, testApp, type TestApp } from "./http-test-client";
import { lowHashCost } from "./password-hasher";

const hour = 3600_000;
const day = 24 * hour;

// Signing keys kept in the database: rotation on a schedule, the previous key served and trusted
// until the tokens it signed have expired.
for (const backend of await testBackends()) {
  describe(`signing key rotation on ${backend.name}`, { skip: backend.skip }, () => {
    let db: Database;
    let t: TestApp;

    before(async () => {
      db = await backend.open();
      t = await testApp(db, { signingKeyRotationDays: 1, accessTokenTtlSeconds: 3600 });
    });
    after(async () => {
      await t?.close();
      await db?.close();
    });

    const jwks = async () =>
      (await t.app.inject({ method: "GET", url: "/.well-known/jwks.json" })).json<JSONWebKeySet>();
    const kidOf = (token: string) => decodeProtectedHeader(token).kid;

    test("JWKS serves the current public key, which verifies the tokens", async () => {
      const response = await t.app.inject({ method: "GET", url: "/.well-known/jwks.json" });
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers["cache-control"], "no-store");
      const set = response.json<JSONWebKeySet>();
      assert.equal(set.keys.length, 1);
      const [key] = set.keys;
      assert.equal(key?.alg, "EdDSA");
      assert.equal(key?.use, "sig");
      assert.equal(Object.hasOwn(key!, "d"), false, "no private part");

      const { accessToken } = await t.identity.signIn("ana@acme.test", "dispatch");
      assert.equal(kidOf(accessToken), key?.kid);
      const { payload } = await jwtVerify(accessToken, createLocalJWKSet(set), {
        audience: "sluice",
        issuer: "sluice",
        currentDate: new Date(t.clock.now()),
      });
      assert.equal(payload.role, "owner");
    });

    test("after the rotation period a new key signs; the previous one verifies until its tokens expire", async () => {
      const sdk = new SdkClient(t.app);
      await sdk.signIn("ben@acme.test");
      const before = sdk.accessToken;

      t.clock.advance(day - 10 * 60_000);
      await sdk.refresh();
      const lastOfOld = sdk.accessToken;
      assert.equal(kidOf(lastOfOld), kidOf(before), "not due yet");

      t.clock.advance(10 * 60_000);
      await sdk.refresh();
      const first = sdk.accessToken;
      assert.notEqual(kidOf(first), kidOf(before), "rotated");
      assert.deepEqual((await jwks()).keys.map((k) => k.kid).sort(), [kidOf(first), kidOf(before)].sort());
      const restarted = await createIdentity({
        db,
        hashCost: lowHashCost,
        now: t.clock.now,
        signingKeyRotationDays: 1,
      });
      assert.equal((await restarted.verifyAccessToken(lastOfOld)).displayName, "Ben Brandt", "another process agrees");
      assert.equal((await t.identity.verifyAccessToken(lastOfOld)).displayName, "Ben Brandt");

      t.clock.advance(hour);
      assert.deepEqual(
        (await jwks()).keys.map((k) => k.kid),
        [kidOf(first)],
        "the previous key leaves once its last token has expired",
      );
      await t.identity.verifyAccessToken((await sdk.refresh()).json<{ accessToken: string }>().accessToken);
    });
  });
}
