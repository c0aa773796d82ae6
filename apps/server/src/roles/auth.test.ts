// The auth role: identity's REST service as a process of its own (`tsx roles/main.ts auth`), beside
// a source gateway told not to serve /auth (SERVE_AUTH=false), on the machine's PostgreSQL, Kafka
// and Redis with a schema, topics and keys of this run's own. A token the auth role signs opens a
// socket on the gateway.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { openTestRedis } from "@sluice/broker/testing";
import { ListProjectsRequestSchema, ProjectListSchema } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import { RawClient } from "../test-support";
import { ScaleOutDeployment, scaleOutTestSkip } from "./testing";

const skip = await scaleOutTestSkip();

const post = (url: string, body: unknown) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-sluice-client": "sdk" },
    body: JSON.stringify(body),
  });

describe("the auth role", { skip, timeout: 300_000 }, () => {
  const deployment = new ScaleOutDeployment({ env: { DATABASE_MAX_CONNECTIONS: "3", KAFKA_PARTITIONS: "1" } });
  const run_ = deployment.id;
  const keyPrefix = deployment.keyPrefix;
  let auth: string;
  let gateway: string;

  before(async () => {
    // The auth role first: it creates identity's tables and the first signing key.
    auth = (await deployment.start({ role: "auth", name: "auth" })).url;
    const gatewayEnv = { SERVE_AUTH: "false", GATEWAY_ID: deployment.gatewayId("gw") };
    gateway = (await deployment.start({ role: "source-gateway", name: "source gateway", env: gatewayEnv })).url;
  });

  after(() => deployment.cleanUp());

  test("answers /healthz, /readyz, /metrics and the JWKS on its own port", async () => {
    assert.equal((await fetch(`${auth}/healthz`)).status, 200);
    assert.deepEqual(await (await fetch(`${auth}/readyz`)).json(), { status: "ready" });
    assert.match(await (await fetch(`${auth}/metrics`)).text(), /role="auth"/);
    const jwks = (await (await fetch(`${auth}/.well-known/jwks.json`)).json()) as { keys: unknown[] };
    assert.ok(jwks.keys.length > 0);
  });

  test("a sign-up and a sign-in through it give tokens a source gateway accepts on its socket", async () => {
    const signedUp = await post(`${auth}/auth/signup`, {
      organizationName: "Harbour Haulage",
      displayName: "Hana",
      email: `hana-${run_}@harbour.test`,
      password: "a long enough password",
    });
    assert.equal(signedUp.status, 201);
    const signedIn = await post(`${auth}/auth/signin`, {
      email: `hana-${run_}@harbour.test`,
      password: "a long enough password",
    });
    assert.equal(signedIn.status, 200);
    const { accessToken, user } = (await signedIn.json()) as { accessToken: string; user: { role: string } };
    assert.equal(user.role, "owner");

    const socket = await RawClient.connect(gateway, accessToken);
    try {
      // A query answered by the gateway for the new organization: the session was accepted and authorized.
      const projects = await socket.result(
        "dispatch.v1.DispatchQueryService/ListProjects",
        ListProjectsRequestSchema,
        ProjectListSchema,
        {},
      );
      assert.deepEqual(projects.projects, []);
    } finally {
      await socket.close();
    }
    // A socket without a valid token is opened only to be closed with UNAUTHENTICATED (4005).
    const stranger = await RawClient.connect(gateway, "not a token");
    assert.equal((await stranger.closed).code, 4005);
  });

  test("the gateway told not to serve /auth does not; the auth role does not serve the sockets", async () => {
    const refused = await post(`${gateway}/auth/signin`, { email: "ana@acme.test", password: "dispatch" });
    assert.equal(refused.status, 404);
    assert.equal((await fetch(`${gateway}/.well-known/jwks.json`)).status, 404);
    await assert.rejects(RawClient.connect(auth, undefined));
  });

  test("sign-in is throttled on counters in Redis, under the deployment's key prefix", async () => {
    const wrong = await post(`${auth}/auth/signin`, { email: `nobody-${run_}@harbour.test`, password: "wrong" });
    assert.equal(wrong.status, 401);
    const redis = await openTestRedis();
    try {
      const keys: string[] = [];
      for await (const batch of redis.scanIterator({ MATCH: `${keyPrefix}attempts:*` }))
        keys.push(...batch.map(String));
      // The email's and the address's rate and failures: what every process serving /auth shares.
      for (const kind of ["rate:email:", "rate:address:", "fail:email:", "fail:address:"]) {
        assert.ok(
          keys.some((key) => key.startsWith(`${keyPrefix}attempts:{${kind}`)),
          `${kind} in ${keys.join(", ")}`,
        );
      }
    } finally {
      await redis.close();
    }
  });
});
