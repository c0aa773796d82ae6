import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { decodeJwt, decodeProtectedHeader, SignJWT } from "jose";
import { Role } from "@sluice/contracts";
import type { Database } from "@sluice/database";
import { testBackends } from "@sluice/database/testing";
import { ErrorCode, RpcError } from "@sluice/rpc";
import { createIdentity, type Identity } from "./identity";
import { lowHashCost } from "./password-hasher";
import { IdentityConfigError } from "./config-error";

function ed25519Pem(): string {
  return generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

function isUnauthenticated(pattern?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof RpcError, `expected an RpcError, got ${String(error)}`);
    assert.equal(error.code, ErrorCode.UNAUTHENTICATED);
    if (pattern) assert.match(error.message, pattern);
    return true;
  };
}

// The same SQL must hold on PGlite (embedded) and the PostgreSQL server (scale-out).
for (const backend of await testBackends()) {
  describe(`identity on ${backend.name}`, { skip: backend.skip }, () => {
    let db: Database;
    let identity: Identity;
    const privateKeyPem = ed25519Pem();

    before(async () => {
      db = await backend.open();
      identity = await createIdentity({ db, privateKeyPem, hashCost: lowHashCost });
      await identity.seedDemo();
    });
    after(async () => {
      identity?.close();
      await db?.close();
    });

    test("seedDemo is idempotent and returns both organizations' ids", async () => {
      const again = await identity.seedDemo();
      assert.notEqual(again.organizations.acme, again.organizations.globex);
      assert.deepEqual(Object.keys(again.users).sort(), [
        "ana@acme.test",
        "ben@acme.test",
        "gina@globex.test",
        "vera@acme.test",
      ]);
      const { rows } = await db.query<{ count: number }>("SELECT count(*)::int AS count FROM users");
      assert.equal(rows[0]?.count, 4);
    });

    test("signs in with the right password and the token verifies to the session", async () => {
      const seed = await identity.seedDemo();
      const signedIn = await identity.signIn("  Ana@Acme.test ", "dispatch");
      assert.equal(signedIn.user.id, seed.users["ana@acme.test"]);
      assert.equal(signedIn.user.role, "owner");
      assert.equal(signedIn.user.organizationName, "Acme Logistics");
      assert.equal(signedIn.user.organizationId, seed.organizations.acme);

      const session = await identity.verifyAccessToken(signedIn.accessToken);
      assert.deepEqual(session, signedIn.session);
      assert.equal(session.role, Role.OWNER);
      assert.equal(session.displayName, "Ana Alvarez");
      assert.equal(session.expiresAt, signedIn.expiresAt);
    });

    test("a viewer's session carries the viewer role", async () => {
      const { session } = await identity.signIn("vera@acme.test", "dispatch");
      assert.equal(session.role, Role.VIEWER);
    });

    test("a wrong password and an unknown email fail with the same error", async () => {
      const wrongPassword = await identity.signIn("ana@acme.test", "Dispatch").catch((error: unknown) => error);
      const unknownEmail = await identity.signIn("nobody@acme.test", "dispatch").catch((error: unknown) => error);
      isUnauthenticated(/wrong email or password/)(wrongPassword);
      isUnauthenticated(/wrong email or password/)(unknownEmail);
      assert.equal((wrongPassword as RpcError).message, (unknownEmail as RpcError).message);
    });

    test("authenticate reads a bearer token, then the cookie", async () => {
      const { accessToken, session } = await identity.signIn("ben@acme.test", "dispatch");
      assert.deepEqual(await identity.authenticate({ authorization: `Bearer ${accessToken}` }), session);
      assert.deepEqual(await identity.authenticate({ cookie: `theme=dark; sluice_access=${accessToken}` }), session);
      await assert.rejects(identity.authenticate({}), isUnauthenticated(/no access token/));
      await assert.rejects(identity.authenticate({ authorization: `Basic abc` }), isUnauthenticated(/Bearer/));
    });

    test("an expired token is refused", async () => {
      const hourAgo = Date.now() - 3600_000;
      const past = await createIdentity({ db, privateKeyPem, hashCost: lowHashCost, now: () => hourAgo });
      const { accessToken } = await past.signIn("ana@acme.test", "dispatch");
      await assert.rejects(identity.verifyAccessToken(accessToken), isUnauthenticated(/expired/));
    });

    test("a token signed with another key is refused", async () => {
      const other = await createIdentity({ db, privateKeyPem: ed25519Pem(), hashCost: lowHashCost });
      const { accessToken } = await other.signIn("ana@acme.test", "dispatch");
      await assert.rejects(identity.verifyAccessToken(accessToken), isUnauthenticated(/key Sluice does not know/));
    });

    test("a token naming our key but signed by another is refused", async () => {
      const { accessToken } = await identity.signIn("ana@acme.test", "dispatch");
      const { kid } = decodeProtectedHeader(accessToken);
      const claims = decodeJwt(accessToken);
      const forged = await new SignJWT(claims)
        .setProtectedHeader({ alg: "EdDSA", kid })
        .sign(createPrivateKey(ed25519Pem()));
      await assert.rejects(identity.verifyAccessToken(forged), isUnauthenticated(/signature/));
      const unsigned = await new SignJWT(claims)
        .setProtectedHeader({ alg: "EdDSA" })
        .sign(createPrivateKey(privateKeyPem));
      await assert.rejects(identity.verifyAccessToken(unsigned), isUnauthenticated(/names no signing key/));
    });

    test("a token for another audience or issuer is refused", async () => {
      const { session, accessToken } = await identity.signIn("ana@acme.test", "dispatch");
      const { kid } = decodeProtectedHeader(accessToken);
      const sign = (audience: string, issuer: string) =>
        new SignJWT({ org: session.organizationId, role: "dispatcher", name: "Ana", sid: session.sessionId })
          .setProtectedHeader({ alg: "EdDSA", kid })
          .setSubject(session.userId)
          .setAudience(audience)
          .setIssuer(issuer)
          .setIssuedAt()
          .setExpirationTime("5m")
          .sign(createPrivateKey(privateKeyPem));
      await assert.rejects(identity.verifyAccessToken(await sign("elsewhere", "sluice")), isUnauthenticated(/aud/));
      await assert.rejects(identity.verifyAccessToken(await sign("sluice", "elsewhere")), isUnauthenticated(/iss/));
    });

    test("a tampered token is refused", async () => {
      const { accessToken } = await identity.signIn("vera@acme.test", "dispatch");
      const [header, payload, signature] = accessToken.split(".") as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>;
      const promoted = Buffer.from(JSON.stringify({ ...claims, role: "owner" })).toString("base64url");
      await assert.rejects(identity.verifyAccessToken(`${header}.${promoted}.${signature}`), isUnauthenticated());
      await assert.rejects(identity.verifyAccessToken("not-a-token"), isUnauthenticated(/malformed/));
    });

    test("a signed-out session's token is refused", async () => {
      const { accessToken, session } = await identity.signIn("ben@acme.test", "dispatch");
      await identity.signOut(session.sessionId);
      await assert.rejects(identity.verifyAccessToken(accessToken), isUnauthenticated(/signed out/));
    });

    test("without a configured key, the embedded shape generates one and keeps it in the database", async () => {
      const first = await createIdentity({ db, hashCost: lowHashCost });
      const { accessToken } = await first.signIn("gina@globex.test", "dispatch");
      const { rows } = await db.query<{ count: number }>("SELECT count(*)::int AS count FROM signing_keys");
      assert.equal(rows[0]?.count, 1);

      const restarted = await createIdentity({ db, hashCost: lowHashCost });
      const session = await restarted.verifyAccessToken(accessToken);
      assert.equal(session.displayName, "Gina Grant");
      const again = await db.query<{ count: number }>("SELECT count(*)::int AS count FROM signing_keys");
      assert.equal(again.rows[0]?.count, 1, "a restart reuses the key");
    });

    test("a P-256 key signs ES256 tokens", async () => {
      const p256 = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({
        type: "pkcs8",
        format: "pem",
      });
      const es256 = await createIdentity({ db, privateKeyPem: p256.toString(), hashCost: lowHashCost });
      const { accessToken, session } = await es256.signIn("ana@acme.test", "dispatch");
      const header = JSON.parse(Buffer.from(accessToken.split(".")[0]!, "base64url").toString()) as { alg: string };
      assert.equal(header.alg, "ES256");
      assert.deepEqual(await es256.verifyAccessToken(accessToken), session);
      await assert.rejects(identity.verifyAccessToken(accessToken), isUnauthenticated());
    });

    test("a configured key that is not usable stops the start with a clear error", async () => {
      await assert.rejects(createIdentity({ db, privateKeyPem: "nonsense" }), IdentityConfigError);
      const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({
        type: "pkcs8",
        format: "pem",
      });
      await assert.rejects(createIdentity({ db, privateKeyPem: rsa.toString() }), /Ed25519 or P-256/);
      await assert.rejects(createIdentity({ db, accessTokenTtlSeconds: 0 }), IdentityConfigError);
    });
  });
}
