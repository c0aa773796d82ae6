// The source gateway's lifecycle on a real server over real sockets: session expiry and in-band
// re-authentication, and the drain at shutdown (the limits: gateway-limits.test.ts). Each describe
// block starts its own server; tests wait on frames and closes, never on the clock.
import { ListProjectsRequestSchema, ProjectListSchema } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import type { Reply } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import { ErrorCode } from "@sluice/contracts/gen/sluice/v1/errors_pb";
import { CloseCode, JSON_SUBPROTOCOL } from "@sluice/protocol";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { RunningServer } from "./server";
import { RawClient, signIn, testServer } from "./test-support";

const LIST_PROJECTS = "dispatch.v1.DispatchQueryService/ListProjects";

async function connect(server: RunningServer, email: string, subprotocol?: string): Promise<RawClient> {
  const client = await RawClient.connect(server.url, await signIn(server.url, email), subprotocol);
  await client.next("connected");
  return client;
}

async function subscribe(client: RawClient, channel: string): Promise<void> {
  const id = client.id();
  client.send({ kind: { case: "subscribe", value: { id, channel, presence: false } } });
  const reply = await client.next("reply", (r) => r.id === id);
  assert.equal(reply.outcome.case, "subscribed", `subscribe to ${channel}`);
}

function errorOf(reply: Reply) {
  assert.equal(reply.outcome.case, "error", `expected an error reply, got ${reply.outcome.case}`);
  return reply.outcome.case === "error" ? reply.outcome.value : undefined!;
}

describe("session expiry and in-band re-authentication", () => {
  // Tokens live three seconds (expiry rounded to whole seconds: two to three seconds from sign-in),
  // which leaves a renewal two seconds to happen in, also on a loaded machine.
  let server: RunningServer;
  before(async () => {
    server = await testServer({ accessTokenTtlSeconds: 3, gatewayLimits: { pingIntervalMs: 250 } });
  });
  after(() => server.close());

  test("at expiry the socket is closed with UNAUTHENTICATED; one that re-authenticated in time lives on", async () => {
    const token = await signIn(server.url, "ana@acme.test");
    const [expiring, renewing] = await Promise.all([
      RawClient.connect(server.url, token),
      RawClient.connect(server.url, token),
    ]);
    expiring.answerPings();
    renewing.answerPings();
    const expiresAt = Number((await expiring.next("connected")).sessionExpiresAt);
    assert.equal(Number((await renewing.next("connected")).sessionExpiresAt), expiresAt);

    // A token signed a whole second later expires a second later.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - 2000 - Date.now())));
    const fresh = await signIn(server.url, "ana@acme.test");
    const id = renewing.id();
    renewing.send({ kind: { case: "authenticate", value: { id, token: fresh } } });
    const reply = await renewing.next("reply", (r) => r.id === id);
    assert.equal(reply.outcome.case, "authenticated");
    const renewedUntil = reply.outcome.case === "authenticated" ? Number(reply.outcome.value.sessionExpiresAt) : 0;
    assert.ok(renewedUntil > expiresAt, "the fresh token expires later");

    const disconnect = await expiring.next("disconnect", () => true, 10_000);
    assert.equal(disconnect.code, CloseCode.UNAUTHENTICATED.code);
    assert.equal(disconnect.reconnect, false);
    assert.equal((await expiring.closed).code, CloseCode.UNAUTHENTICATED.code);
    assert.ok(Date.now() >= expiresAt, "not closed before the session expired");

    await renewing.roundTrip();
    assert.equal((await renewing.closed).code, CloseCode.UNAUTHENTICATED.code);
    assert.ok(Date.now() >= renewedUntil, "the renewed session ran to its new expiry");
  });

  test("a garbage or forged token gets UNAUTHENTICATED and another user's PERMISSION_DENIED; the session runs on", async () => {
    const token = await signIn(server.url, "ana@acme.test");
    const client = await RawClient.connect(server.url, token);
    client.answerPings();
    const expiresAt = (await client.next("connected")).sessionExpiresAt;
    const [header, payload, signature] = token.split(".");
    const forged = `${header}.${payload}.${signature!.startsWith("A") ? "B" : "A"}${signature!.slice(1)}`;
    const tampered = `${header}.${Buffer.from(JSON.stringify({ sub: "someone", exp: 9_999_999_999 })).toString("base64url")}.${signature}`;

    for (const [bad, code] of [
      ["not-a-token", ErrorCode.UNAUTHENTICATED],
      [forged, ErrorCode.UNAUTHENTICATED],
      [tampered, ErrorCode.UNAUTHENTICATED],
      [await signIn(server.url, "ben@acme.test"), ErrorCode.PERMISSION_DENIED],
    ] as const) {
      const id = client.id();
      client.send({ kind: { case: "authenticate", value: { id, token: bad } } });
      assert.equal(errorOf(await client.next("reply", (r) => r.id === id)).code, code);
    }
    // Still open, still the old session: it closes at the old expiry.
    const projects = await client.result(LIST_PROJECTS, ListProjectsRequestSchema, ProjectListSchema, {});
    assert.ok(projects.projects.length >= 1);
    assert.equal((await client.closed).code, CloseCode.UNAUTHENTICATED.code);
    assert.ok(Date.now() >= Number(expiresAt));
  });
});

describe("graceful drain", () => {
  let server: RunningServer;
  before(async () => {
    server = await testServer();
  });
  after(() => server.close());

  test("close() tells every socket SHUTDOWN (reconnect) in a Disconnect frame, closes them with 4001 and refuses new ones", async () => {
    const clients = [
      await connect(server, "ana@acme.test"),
      await connect(server, "ben@acme.test", JSON_SUBPROTOCOL),
      await connect(server, "vera@acme.test"),
    ];
    await subscribe(clients[2]!, "org");
    await server.close();
    for (const client of clients) {
      const disconnect = await client.next("disconnect");
      assert.equal(disconnect.code, CloseCode.SHUTDOWN.code);
      assert.equal(disconnect.reconnect, true);
      assert.equal((await client.closed).code, CloseCode.SHUTDOWN.code);
    }
    await assert.rejects(RawClient.connect(server.url, "whatever"));
  });
});
