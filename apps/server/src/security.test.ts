// The security suite: a real server attacked over real sockets and real HTTP. Each attack must be
// refused with a clear error and leak nothing; after each one a well-behaved user on another
// socket still gets a call through and an event back, and the server's log (captured at trace
// level) holds no token, password or email.
//
// Not repeated here, already proven elsewhere: a socket without a session or with a garbage
// token closed 4005 before any frame, undecodable, truncated, oversized and empty frames closed
// 4004, a wrong request type and broken validation rules answered INVALID_ARGUMENT, a viewer's
// CreateOrder refused (server.test.ts); call rate and subscription limits, slow consumers, expiry
// and forged or foreign tokens sent in band (gateway-limits.test.ts).
import { CreateOrderRequestSchema, CreateOrderResponseSchema } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { OrderCreatedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { ListProjectsRequestSchema, ProjectListSchema } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import type { Subscribed } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { CloseCode, PROTOBUF_SUBPROTOCOL } from "@sluice/protocol";
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { WebSocket } from "ws";
import type { RunningServer } from "./server";
import { RawClient, signIn, testServer } from "./test-support";

const CREATE_ORDER = "dispatch.v1.DispatchCommandService/CreateOrder";
const LIST_PROJECTS = "dispatch.v1.DispatchQueryService/ListProjects";
const ALLOWED_ORIGIN = "https://console.example.test";

/** Every line the server logs, at trace level. */
const logLines: string[] = [];
/** Secrets the suite has seen; none may appear in the log. */
const secrets = new Set<string>();

let server: RunningServer;
let wsUrl: string;
let bystander: Bystander;

before(async () => {
  server = await testServer({
    logLevel: "trace",
    logStream: { write: (line) => void logLines.push(line) },
    allowedOrigins: [ALLOWED_ORIGIN],
  });
  wsUrl = `${server.url.replace(/^http/, "ws")}/ws`;
  bystander = await Bystander.start(server.url);
});

after(async () => {
  await bystander?.close();
  await server?.close();
});

afterEach(async () => {
  await bystander.keepsWorking();
  assertLogIsClean();
});

/**
 * A dispatcher who does nothing wrong, on a socket of their own subscribed to a project: after
 * every attack, a call of theirs must succeed and its event must reach them.
 */
class Bystander {
  static async start(url: string): Promise<Bystander> {
    const token = await signIn(url, "ben@acme.test");
    secrets.add(token);
    const client = await RawClient.connect(url, token);
    await client.next("connected");
    client.socket.on("message", (data) => {
      const frame = client.codec.decodeServer(new Uint8Array(data as Buffer));
      if (frame.kind.case === "ping") client.send({ kind: { case: "pong", value: {} } });
    });
    const projects = await client.result(LIST_PROJECTS, ListProjectsRequestSchema, ProjectListSchema, {});
    const projectId = projects.projects[0]!.projectId;
    await subscribe(client, `project:${projectId}`);
    return new Bystander(client, projectId);
  }

  #rounds = 0;
  private constructor(
    readonly client: RawClient,
    readonly projectId: string,
  ) {}

  async keepsWorking(): Promise<void> {
    const consignee = `bystander ${++this.#rounds}`;
    const { orderId } = await this.client.result(CREATE_ORDER, CreateOrderRequestSchema, CreateOrderResponseSchema, {
      projectId: this.projectId,
      consignee,
      address: "Hafenstrasse 1, Hamburg",
      weightKg: 10,
    });
    const publication = await this.client.next(
      "publication",
      (p) => anyUnpack(p.event!, OrderCreatedSchema)?.orderId === orderId,
    );
    assert.equal(publication.channel, `project:${this.projectId}`);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

function assertLogIsClean(): void {
  const log = logLines.join("");
  assert.ok(logLines.length > 0, "the server logged nothing at trace level: the capture is broken");
  for (const secret of secrets) assert.ok(!log.includes(secret), "a token or password the suite used is in the log");
  assert.doesNotMatch(log, /eyJ[\w-]{8,}\.[\w-]{8,}\./, "something shaped like a JWT is in the log");
  assert.doesNotMatch(log, /@(acme|globex|example)\.test/i, "an email address is in the log");
  assert.doesNotMatch(log, /"(password|currentPassword|newPassword|refreshToken|accessToken|cookie|authorization)"/i);
}

async function subscribe(client: RawClient, channel: string): Promise<Subscribed> {
  const id = client.id();
  client.send({ kind: { case: "subscribe", value: { id, channel, presence: false } } });
  const reply = await client.next("reply", (r) => r.id === id);
  assert.equal(reply.outcome.case, "subscribed", `subscribe to ${channel}`);
  return reply.outcome.value as Subscribed;
}

type UpgradeOutcome = { readonly status: number } | { readonly closeCode: number; readonly frames: number };

/**
 * Tries an upgrade with exactly these headers: the HTTP status when it is refused, else the close
 * code once the socket closes (the test closes an accepted one itself after its first frame).
 */
function tryUpgrade(headers: Record<string, string>): Promise<UpgradeOutcome> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, PROTOBUF_SUBPROTOCOL, { headers });
    let frames = 0;
    socket.on("unexpected-response", (_request, response) => {
      resolve({ status: response.statusCode ?? 0 });
      response.resume();
      socket.terminate();
    });
    socket.on("message", () => {
      if (frames++ === 0) socket.close();
    });
    socket.on("close", (closeCode) => resolve({ closeCode, frames }));
    socket.on("error", (error) => {
      if (!/Unexpected server response/.test(error.message)) reject(error);
    });
  });
}

async function refusedUpgrades(reason: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`sluice_gateway_upgrades_refused_total{reason="${reason}"}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

describe("the Origin of a WebSocket upgrade", () => {
  let token: string;
  before(async () => {
    token = await signIn(server.url, "ana@acme.test");
    secrets.add(token);
  });

  test("a foreign Origin is refused with HTTP 403 before any socket exists, whatever it authenticates with", async () => {
    const port = new URL(server.url).port;
    const foreign = [
      "https://evil.test",
      "null",
      `http://localhost:${port}`, // same machine, another host name: another origin
      `http://127.0.0.1:${Number(port) + 1}`,
      `${ALLOWED_ORIGIN}.evil.test`,
      "http://console.example.test", // the allowed host, but not its scheme
    ];
    const before = await refusedUpgrades("origin");
    for (const origin of foreign) {
      const credentials: Record<string, string>[] = [
        { cookie: `sluice_access=${token}` },
        { authorization: `Bearer ${token}` },
      ];
      for (const credential of credentials) {
        assert.deepEqual(await tryUpgrade({ origin, ...credential }), { status: 403 }, origin);
      }
    }
    assert.equal(await refusedUpgrades("origin"), before + 2 * foreign.length);
  });

  test("the server's own origin and a configured one open with the cookie", async () => {
    for (const origin of [server.url, ALLOWED_ORIGIN]) {
      const outcome = await tryUpgrade({ origin, cookie: `sluice_access=${token}` });
      assert.deepEqual(outcome, { closeCode: 1005, frames: 1 }, origin);
    }
  });

  test("without an Origin a bearer token opens; a cookie alone does not count", async () => {
    assert.deepEqual(await tryUpgrade({ authorization: `Bearer ${token}` }), { closeCode: 1005, frames: 1 });
    assert.deepEqual(await tryUpgrade({ cookie: `sluice_access=${token}` }), {
      closeCode: CloseCode.UNAUTHENTICATED.code,
      frames: 0,
    });
  });
});

describe("security headers", () => {
  test("every HTTP reply, error or not, carries the CSP and helmet's headers", async () => {
    const requests: Array<[string, RequestInit?]> = [
      ["/healthz"],
      ["/metrics"],
      ["/auth/me"],
      ["/auth/signin", { method: "POST", headers: { "content-type": "application/json" }, body: "{" }],
      ["/no/such/path"],
      ["/docs/json"],
    ];
    for (const [path, init] of requests) {
      const response = await fetch(`${server.url}${path}`, init);
      await response.arrayBuffer();
      const header = (name: string) => response.headers.get(name) ?? "";
      const csp = header("content-security-policy");
      assert.match(csp, /default-src 'self'/, path);
      assert.match(csp, /script-src 'self';/, `${path}: scripts only from the origin, nothing inline`);
      assert.match(csp, /frame-ancestors 'none'/, path);
      assert.match(csp, /object-src 'none'/, path);
      assert.equal(header("x-content-type-options"), "nosniff", path);
      assert.equal(header("x-frame-options"), "DENY", path);
      assert.equal(header("referrer-policy"), "no-referrer", path);
      assert.match(header("strict-transport-security"), /max-age=\d+/, path);
      assert.equal(header("cross-origin-opener-policy"), "same-origin", path);
    }
  });
});
