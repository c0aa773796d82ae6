import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import Fastify from "fastify";
import { ConfigError, loadConfig, trustProxyOption } from "./config";

test("ALLOWED_ORIGINS: a comma list of origins, normalized; empty means same origin only", () => {
  assert.deepEqual(loadConfig({}).allowedOrigins, []);
  assert.deepEqual(
    loadConfig({ ALLOWED_ORIGINS: " https://Admin.Example.com , http://localhost:5173," }).allowedOrigins,
    ["https://admin.example.com", "http://localhost:5173"],
  );
});

test("ALLOWED_ORIGINS: anything that is not an origin stops the start, naming the entry", () => {
  for (const bad of ["*", "example.com", "https://example.com/app", "null", "ftp://example.com"]) {
    assert.throws(
      () => loadConfig({ ALLOWED_ORIGINS: `https://ok.example.com,${bad}` }),
      (error: unknown) =>
        error instanceof ConfigError && error.message.includes("ALLOWED_ORIGINS") && error.message.includes(bad),
      bad,
    );
  }
});

test("SLUICE_PERSONAL_DATA_KEY: 32 bytes of base64, or unset for the database's own; a bad one stops the start unrepeated", () => {
  assert.equal(loadConfig({}).personalDataKey, undefined);
  const key = randomBytes(32);
  assert.deepEqual(Buffer.from(loadConfig({ SLUICE_PERSONAL_DATA_KEY: key.toString("base64") }).personalDataKey!), key);
  const short = randomBytes(16).toString("base64");
  assert.throws(
    () => loadConfig({ SLUICE_PERSONAL_DATA_KEY: short }),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.message.includes("SLUICE_PERSONAL_DATA_KEY") &&
      !error.message.includes(short),
  );
});

test("TRUST_PROXY: unset or empty trusts no proxy; a comma list of addresses, CIDR ranges and named ranges", () => {
  assert.deepEqual(loadConfig({}).trustProxy, []);
  assert.deepEqual(loadConfig({ TRUST_PROXY: " , " }).trustProxy, []);
  assert.deepEqual(
    loadConfig({ TRUST_PROXY: " 10.0.0.0/8, 127.0.0.1,::1, fd00::/8,192.168.1.7/32,loopback,uniquelocal" }).trustProxy,
    ["10.0.0.0/8", "127.0.0.1", "::1", "fd00::/8", "192.168.1.7/32", "loopback", "uniquelocal"],
  );
  assert.equal(trustProxyOption([]), false);
  assert.equal(trustProxyOption(undefined), false);
  assert.deepEqual(trustProxyOption(["10.0.0.0/8"]), ["10.0.0.0/8"]);
});

test("TRUST_PROXY: a hop count, true, a range of every address or anything not an address stops the start, naming it", () => {
  const cases: Array<[string, RegExp]> = [
    ["1", /"1" is a hop count, which is not accepted/],
    ["2", /hop count/],
    ["true", /"true" would trust every client/],
    ["*", /"\*" would trust every client/],
    ["0.0.0.0/0", /"0\.0\.0\.0\/0" covers every address/],
    ["::/0", /covers every address/],
    ["10.0.0.0/33", /prefix length must be a whole number from 1 to 32/],
    ["fd00::/129", /from 1 to 128/],
    ["10.0.0.0/8/8", /is not an IP address, a CIDR range/],
    ["10.0.0.0/", /prefix length/],
    ["10.0.0.0/255.0.0.0", /prefix length/],
    ["10.0.0", /is not an IP address/],
    ["256.1.1.1", /is not an IP address/],
    ["proxy.internal", /is not an IP address/],
    ["fe80::1%eth0", /is not an IP address/],
    ["false", /is not an IP address/],
  ];
  for (const [bad, message] of cases) {
    assert.throws(
      () => loadConfig({ TRUST_PROXY: `127.0.0.1,${bad}` }),
      (error: unknown) =>
        error instanceof ConfigError && error.message.includes("TRUST_PROXY") && message.test(error.message),
      bad,
    );
  }
});

test("TRUST_PROXY: what it accepts, Fastify accepts", async () => {
  const trusted = loadConfig({ TRUST_PROXY: "10.0.0.0/8,127.0.0.1,::1,fd00::/8,linklocal" }).trustProxy;
  const app = Fastify({ trustProxy: trustProxyOption(trusted) });
  app.get("/", (request) => ({ ip: request.ip, protocol: request.protocol }));
  try {
    const reply = await app.inject({
      url: "/",
      remoteAddress: "127.0.0.1",
      headers: { "x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https" },
    });
    assert.deepEqual(reply.json(), { ip: "203.0.113.9", protocol: "https" });
    const direct = await app.inject({
      url: "/",
      remoteAddress: "198.51.100.1",
      headers: { "x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https" },
    });
    assert.deepEqual(direct.json(), { ip: "198.51.100.1", protocol: "http" }, "not from a trusted proxy");
  } finally {
    await app.close();
  }
});
