import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import Fastify, { type FastifyInstance } from "fastify";
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
});
