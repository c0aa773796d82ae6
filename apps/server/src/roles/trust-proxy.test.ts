// The scale-out shape's HTTP frame (`startRole`) hands TRUST_PROXY to Fastify, as the embedded
// server does (../trust-proxy.test.ts shows what identity makes of it): the roles clients reach
// see the forwarded address and scheme from a trusted proxy only. No Kafka, Redis or database.
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadRoleConfig } from "./config";
import { startRole } from "./role-process";

const database = "postgres://sluice:sluice@127.0.0.1:5432/sluice";
const forwarded = { "x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https" };

async function seenBy(env: NodeJS.ProcessEnv): Promise<{ ip: string; protocol: string }> {
  const config = { ...loadRoleConfig("auth", { DATABASE_URL: database, HOST: "127.0.0.1", PORT: "0", ...env }) };
  const role = await startRole({ ...config, logLevel: "silent" }, async ({ app, cleanups }) => {
    cleanups.push(() => app.close());
    app.get("/seen", (request) => ({ ip: request.ip, protocol: request.protocol }));
  });
  try {
    const response = await fetch(`${role.url}/seen`, { headers: forwarded });
    return (await response.json()) as { ip: string; protocol: string };
  } finally {
    await role.close();
  }
}

test("a role behind a trusted proxy sees the forwarded address and scheme", async () => {
  assert.deepEqual(await seenBy({ TRUST_PROXY: "127.0.0.1" }), { ip: "203.0.113.9", protocol: "https" });
});

test("a role with no proxy trusted, or behind another one, sees the socket's", async () => {
  assert.deepEqual(await seenBy({}), { ip: "127.0.0.1", protocol: "http" });
  assert.deepEqual(await seenBy({ TRUST_PROXY: "10.0.0.0/8" }), { ip: "127.0.0.1", protocol: "http" });
});
