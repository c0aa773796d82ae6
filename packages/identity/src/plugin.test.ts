import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import { decodeJwt, decodeProtectedHeader, SignJWT } from "jose";
import { openDatabase, type Database } from "@sluice/database";
import { createIdentity, type Identity } from "./identity";
import { lowHashCost } from "./password-hasher";

describe("identity plugin", () => {
  let db: Database;
  let identity: Identity;
  let app: FastifyInstance;

  before(async () => {
    db = await openDatabase({ kind: "pglite" });
    identity = await createIdentity({ db, hashCost: lowHashCost, accessTokenTtlSeconds: 600 });
    await identity.seedDemo();
    app = Fastify();
    await app.register(identity.plugin);
    await app.ready();
  });
  after(async () => {
    identity?.close();
    await app.close();
    await db.close();
  });

  const signIn = (body: unknown) => app.inject({ method: "POST", url: "/auth/signin", payload: body as object });

  test("POST /auth/signin answers with the token and the user and sets the cookie", async () => {
    const response = await signIn({ email: "ana@acme.test", password: "dispatch" });
    assert.equal(response.statusCode, 200);
    const body = response.json<{ accessToken: string; expiresAt: number; user: Record<string, string> }>();
    assert.equal(body.user.email, "ana@acme.test");
    assert.equal(body.user.displayName, "Ana Alvarez");
    assert.equal(body.user.role, "owner");
    assert.equal(body.user.organizationName, "Acme Logistics");
    assert.equal(Object.hasOwn(body.user, "passwordHash"), false);
    assert.ok(body.expiresAt > Date.now());
    assert.equal(response.headers["cache-control"], "no-store");

    const cookie = response.cookies.find((c) => c.name === "sluice_access");
    assert.ok(cookie);
    assert.equal(cookie.value, body.accessToken);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, "Strict");
    assert.equal(cookie.path, "/");
    assert.equal(cookie.maxAge, 600);
    assert.notEqual(cookie.secure, true, "plain http gets no Secure flag");

    const session = await identity.verifyAccessToken(body.accessToken);
    assert.equal(session.userId, body.user.id);
  });

  test("behind an https proxy the cookie is Secure", async () => {
    const proxied = Fastify({ trustProxy: "127.0.0.1" });
    try {
      await proxied.register(identity.plugin);
      const response = await proxied.inject({
        method: "POST",
        url: "/auth/signin",
        headers: { "x-forwarded-proto": "https" },
        payload: { email: "vera@acme.test", password: "dispatch" },
      });
      assert.equal(response.statusCode, 200);
      assert.equal(response.cookies.find((c) => c.name === "sluice_access")?.secure, true);
    } finally {
      await proxied.close();
    }
  });

  test("wrong credentials answer 401 without saying whether the email exists", async () => {
    const wrongPassword = await signIn({ email: "ana@acme.test", password: "nope" });
    const unknownEmail = await signIn({ email: "zed@acme.test", password: "dispatch" });
    assert.equal(wrongPassword.statusCode, 401);
    assert.equal(unknownEmail.statusCode, 401);
    assert.deepEqual(wrongPassword.json(), { code: "UNAUTHENTICATED", message: "wrong email or password" });
    assert.deepEqual(unknownEmail.json(), wrongPassword.json());
    assert.equal(wrongPassword.headers["set-cookie"], undefined);
  });

  test("a malformed body answers 400 JSON", async () => {
    for (const body of [{ email: "ana@acme.test" }, { email: 42, password: "x" }, { email: "a@b.c", password: "" }]) {
      const response = await signIn(body);
      assert.equal(response.statusCode, 400, JSON.stringify(body));
      assert.equal(response.json<{ code: string }>().code, "INVALID_ARGUMENT");
    }
    const notJson = await app.inject({
      method: "POST",
      url: "/auth/signin",
      headers: { "content-type": "application/json" },
      payload: "{not json",
    });
    assert.equal(notJson.statusCode, 400);
    assert.equal(notJson.json<{ code: string }>().code, "INVALID_ARGUMENT");
  });

  test("GET /auth/me answers for the cookie or the bearer token, 401 without one", async () => {
    const signedIn = (await signIn({ email: "gina@globex.test", password: "dispatch" })).json<{
      accessToken: string;
    }>();
    const byCookie = await app.inject({
      method: "GET",
      url: "/auth/me",
      cookies: { sluice_access: signedIn.accessToken },
    });
    assert.equal(byCookie.statusCode, 200);
    assert.equal(byCookie.json<{ user: { organizationName: string } }>().user.organizationName, "Globex Freight");

    const byBearer = await app.inject({
      method: "GET",
      url: "/auth/me",
      headers: { authorization: `Bearer ${signedIn.accessToken}` },
    });
    assert.equal(byBearer.json<{ user: { email: string } }>().user.email, "gina@globex.test");

    const anonymous = await app.inject({ method: "GET", url: "/auth/me" });
    assert.equal(anonymous.statusCode, 401);
    assert.equal(anonymous.json<{ code: string }>().code, "UNAUTHENTICATED");
  });

  test("POST /auth/signout revokes the session and clears the cookie", async () => {
    const { accessToken } = (await signIn({ email: "ben@acme.test", password: "dispatch" })).json<{
      accessToken: string;
    }>();
    const signOut = await app.inject({
      method: "POST",
      url: "/auth/signout",
      cookies: { sluice_access: accessToken, sluice_csrf: "c" },
      headers: { "x-sluice-csrf": "c" },
    });
    assert.equal(signOut.statusCode, 204);
    const cleared = signOut.cookies.find((c) => c.name === "sluice_access");
    assert.ok(cleared);
    assert.equal(cleared.value, "");

    const me = await app.inject({
      method: "GET",
      url: "/auth/me",
      headers: { authorization: `Bearer ${accessToken}` },
    });
    assert.equal(me.statusCode, 401);
    assert.match(me.json<{ message: string }>().message, /signed out/);

    const again = await app.inject({ method: "POST", url: "/auth/signout" });
    assert.equal(again.statusCode, 204, "signing out without a session is harmless");
  });

  test("expired, forged, wrong-key and wrong-audience tokens are refused over HTTP, 401 with a plain reason", async () => {
    const real = (await signIn({ email: "vera@acme.test", password: "dispatch" })).json<{ accessToken: string }>();
    const { kid } = decodeProtectedHeader(real.accessToken);
    const claims = decodeJwt(real.accessToken);
    const { rows } = await db.query<{ private_key_pem: string }>(
      "SELECT private_key_pem FROM signing_keys WHERE id = $1",
      [kid],
    );
    const ourKey = createPrivateKey(rows[0]!.private_key_pem);
    const otherKey = generateKeyPairSync("ed25519").privateKey;
    const hourAgo = Date.now() - 3600_000;
    const past = await createIdentity({ db, hashCost: lowHashCost, now: () => hourAgo });
    const expired = (await past.signIn("vera@acme.test", "dispatch")).accessToken;
    past.close();

    const cases: [string, string, RegExp][] = [
      ["expired", expired, /expired/],
      [
        "wrong audience",
        await new SignJWT({ ...claims, aud: "elsewhere" }).setProtectedHeader({ alg: "EdDSA", kid }).sign(ourKey),
        /aud/,
      ],
      [
        "forged with our kid",
        await new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", kid }).sign(otherKey),
        /signature/,
      ],
      [
        "unknown key",
        await new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", kid: "someone-elses" }).sign(otherKey),
        /does not know/,
      ],
      ["promoted role", tamper(real.accessToken, { role: "owner" }), /signature/],
      ["alg none", `${b64({ alg: "none", kid })}.${b64(claims)}.`, /./],
      ["garbage", "not.a.token", /malformed/],
    ];
    for (const [name, token, reason] of cases) {
      const response = await app.inject({
        method: "GET",
        url: "/auth/me",
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(response.statusCode, 401, name);
      const body = response.json<{ code: string; message: string }>();
      assert.equal(body.code, "UNAUTHENTICATED", name);
      assert.match(body.message, reason, name);
    }
  });
});

function b64(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function tamper(token: string, change: object): string {
  const [header, payload, signature] = token.split(".") as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as object;
  return `${header}.${b64({ ...claims, ...change })}.${signature}`;
}
