// TRUST_PROXY end to end, over real sockets from chosen loopback addresses: whose address the
// sign-in throttle counts, which address the request log names, and whether the session cookies
// are Secure, with a proxy trusted and with none.
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, test } from "node:test";
import { loadConfig } from "./config";
import type { RunningServer } from "./server";
import { testServer } from "./test-support";

/** Three failures lock an address out; emails are never reused, so only the address's count matters. */
const signInLimits = {
  perEmail: { attemptsPerMinute: 30, failuresBeforeLockout: 5, failureWindowSeconds: 900, lockoutSeconds: 900 },
  perAddress: { attemptsPerMinute: 120, failuresBeforeLockout: 3, failureWindowSeconds: 900, lockoutSeconds: 900 },
};

interface Reply {
  readonly status: number;
  readonly cookies: string[];
}

let emails = 0;

/** A sign-in over a socket bound to `localAddress`, with whatever headers a client or proxy adds. */
function signIn(
  server: RunningServer,
  options: { from: string; headers?: Record<string, string>; right?: boolean; browser?: boolean },
): Promise<Reply> {
  const email = options.right ? "ana@acme.test" : `nobody${++emails}@example.test`;
  const body = JSON.stringify({ email, password: options.right ? "dispatch" : "wrong-password" });
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: hostname,
        port,
        localAddress: options.from,
        method: "POST",
        path: "/auth/signin",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          ...(options.browser ? {} : { "x-sluice-client": "sdk" }),
          ...options.headers,
        },
      },
      (response) => {
        response.resume();
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, cookies: response.headers["set-cookie"] ?? [] }),
        );
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/** Fails sign-ins as `options` says until the address they count against is locked out. */
async function lockOut(server: RunningServer, options: { from: string; headers?: () => Record<string, string> }) {
  const statuses: number[] = [];
  for (let attempt = 0; attempt < signInLimits.perAddress.failuresBeforeLockout + 1; attempt++) {
    statuses.push((await signIn(server, { from: options.from, headers: options.headers?.() })).status);
  }
  assert.deepEqual(statuses, [401, 401, 401, 429], "locked out after three failures");
}

const secureCookies = (reply: Reply) => reply.cookies.filter((cookie) => /;\s*Secure\b/i.test(cookie)).length;

describe("behind a trusted proxy (TRUST_PROXY=127.0.0.1)", () => {
  let server: RunningServer;
  const log: string[] = [];

  before(async () => {
    server = await testServer({
      trustProxy: loadConfig({ TRUST_PROXY: "127.0.0.1" }).trustProxy,
      signInLimits,
      logLevel: "info",
      logStream: { write: (line) => void log.push(line) },
    });
  });
  after(() => server?.close());

  test("sign-ins are throttled per forwarded address: one locked out does not lock out another", async () => {
    await lockOut(server, { from: "127.0.0.1", headers: () => ({ "x-forwarded-for": "203.0.113.1" }) });
    const locked = await signIn(server, {
      from: "127.0.0.1",
      headers: { "x-forwarded-for": "203.0.113.1" },
      right: true,
    });
    assert.equal(locked.status, 429, "even the right password, from the locked address");
    const other = await signIn(server, {
      from: "127.0.0.1",
      headers: { "x-forwarded-for": "203.0.113.2" },
      right: true,
    });
    assert.equal(other.status, 200, "another client behind the same proxy signs in");
    // What a client wrote into X-Forwarded-For before the proxy appended the address it saw is not believed.
    const prefixed = await signIn(server, {
      from: "127.0.0.1",
      headers: { "x-forwarded-for": "198.51.100.7, 203.0.113.1" },
      right: true,
    });
    assert.equal(prefixed.status, 429);
  });

  test("the request log names the forwarded address", () => {
    const addresses = log
      .map((line) => JSON.parse(line) as { req?: { remoteAddress?: string } })
      .flatMap((entry) => (entry.req?.remoteAddress ? [entry.req.remoteAddress] : []));
    assert.ok(addresses.includes("203.0.113.1") && addresses.includes("203.0.113.2"), addresses.join(", "));
    assert.ok(!addresses.includes("127.0.0.1"), "the proxy's own address is not taken for the client's");
  });

  test("the cookies are Secure when the proxy says the request came over https", async () => {
    const https = await signIn(server, {
      from: "127.0.0.1",
      headers: { "x-forwarded-for": "203.0.113.3", "x-forwarded-proto": "https" },
      right: true,
      browser: true,
    });
    assert.equal(https.status, 200);
    assert.equal(https.cookies.length, 3);
    assert.equal(secureCookies(https), 3);
    const http = await signIn(server, {
      from: "127.0.0.1",
      headers: { "x-forwarded-for": "203.0.113.3", "x-forwarded-proto": "http" },
      right: true,
      browser: true,
    });
    assert.equal(http.status, 200);
    assert.equal(secureCookies(http), 0);
  });

  test("a peer that is not a trusted proxy has its own address and scheme, whatever it forwards", async () => {
    // 127.0.0.4 is not in the list: its headers are its own claims.
    await lockOut(server, { from: "127.0.0.4", headers: () => ({ "x-forwarded-for": `203.0.113.${++emails % 200}` }) });
    const https = await signIn(server, {
      from: "127.0.0.5",
      headers: { "x-forwarded-for": "203.0.113.50", "x-forwarded-proto": "https" },
      right: true,
      browser: true,
    });
    assert.equal(https.status, 200);
    assert.equal(secureCookies(https), 0);
  });
});

describe("with no proxy trusted (TRUST_PROXY unset)", () => {
  let server: RunningServer;

  before(async () => {
    server = await testServer({ trustProxy: loadConfig({}).trustProxy, signInLimits });
  });
  after(() => server?.close());

  test("a client sending X-Forwarded-For is throttled by its socket's address all the same", async () => {
    let forged = 0;
    await lockOut(server, { from: "127.0.0.2", headers: () => ({ "x-forwarded-for": `198.51.100.${++forged}` }) });
    const fresh = await signIn(server, {
      from: "127.0.0.2",
      headers: { "x-forwarded-for": "198.51.100.200" },
      right: true,
    });
    assert.equal(fresh.status, 429, "a new forwarded address does not get it out");
    assert.equal((await signIn(server, { from: "127.0.0.3", right: true })).status, 200, "another address signs in");
  });

  test("X-Forwarded-Proto does not make the cookies Secure", async () => {
    const reply = await signIn(server, {
      from: "127.0.0.3",
      headers: { "x-forwarded-proto": "https" },
      right: true,
      browser: true,
    });
    assert.equal(reply.status, 200);
    assert.equal(secureCookies(reply), 0);
  });
});
