// The security suite: a real server attacked over real sockets and real HTTP. Each attack must be
// refused with a clear error and leak nothing; after each one a well-behaved user on another
// socket still gets a call through and an event back, and the server's log (captured at trace
// level) holds no token, password or email.
//
// Not repeated here, already proven elsewhere: a socket without a session or with a garbage
// token closed 4005 before any frame, undecodable, truncated, oversized and empty frames closed
// 4004, a wrong request type and broken validation rules answered INVALID_ARGUMENT, a channel name
// outside the protocol refused (server.test.ts); call rate and subscription limits, slow
// consumers (gateway-limits.test.ts); expiry, forged or foreign tokens sent in band
// (gateway-lifecycle.test.ts); CSRF, Origin and cookie rules of each /auth route (the identity
// package's own tests).
import { ScalarType, toJsonString, type DescMethod } from "@bufbuild/protobuf";
import { anyUnpack, AnySchema } from "@bufbuild/protobuf/wkt";
import { MethodKind, methodName, methodPolicy, registry, Role, services } from "@sluice/contracts";
import { CreateOrderRequestSchema, CreateOrderResponseSchema } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { AssignOrderRequestSchema, CommandAcceptedSchema } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { OrderCreatedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import {
  GetOrderBoardRequestSchema,
  GetRouteSheetRequestSchema,
  ListProjectsRequestSchema,
  ListRoutesRequestSchema,
  OrderBoardSchema,
  ProjectListSchema,
  RouteListSchema,
  RouteSheetSchema,
} from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import type { Reply, Subscribed } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import { ErrorCode } from "@sluice/contracts/gen/sluice/v1/errors_pb";
import { CloseCode, DEFAULT_MAX_FRAME_BYTES, JSON_SUBPROTOCOL, PROTOBUF_SUBPROTOCOL } from "@sluice/protocol";
import assert from "node:assert/strict";
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from "node:crypto";
import { request as httpRequest } from "node:http";
import { after, afterEach, before, describe, test } from "node:test";
import { WebSocket } from "ws";
import type { ServerConfig } from "./config";
import type { RunningServer } from "./server";
import { RawClient, signIn, testServer } from "./test-support";

const CREATE_ORDER = "dispatch.v1.DispatchCommandService/CreateOrder";
const ASSIGN_ORDER = "dispatch.v1.DispatchCommandService/AssignOrder";
const LIST_PROJECTS = "dispatch.v1.DispatchQueryService/ListProjects";
const GET_ORDER_BOARD = "dispatch.v1.DispatchQueryService/GetOrderBoard";
const LIST_ROUTES = "dispatch.v1.DispatchQueryService/ListRoutes";
const GET_ROUTE_SHEET = "dispatch.v1.DispatchQueryService/GetRouteSheet";
const ALLOWED_ORIGIN = "https://console.example.test";
const PASSWORD = "dispatch";

/** Every line the server logs, at trace level. */
const logLines: string[] = [];
/** Secrets the suite has seen; none may appear in the log. */
const secrets = new Set<string>();

// The server signs with a key the suite holds, so it can make tokens the server would sign
// itself, but expired, for another audience, and so on.
const signingKey = generateKeyPairSync("ed25519");

let server: RunningServer;
let wsUrl: string;
let bystander: Bystander;

before(async () => {
  server = await testServer({
    logLevel: "trace",
    logStream: { write: (line) => void logLines.push(line) },
    allowedOrigins: [ALLOWED_ORIGIN],
    jwtPrivateKeyPem: signingKey.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    refreshReuseGraceSeconds: 0,
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
    const client = await connect(await signInKept(url, "ben@acme.test"), url);
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
  assert.doesNotMatch(log, /[\w.+-]+@[\w-]+\.test/i, "an email address is in the log");
  assert.doesNotMatch(log, /"(password|currentPassword|newPassword|refreshToken|accessToken|cookie|authorization)"/i);
}

/** Signs in as a browser would (the suite's `signIn`), keeping the token to look for in the log. */
async function signInKept(url: string, email: string): Promise<string> {
  const token = await signIn(url, email);
  secrets.add(token);
  return token;
}

interface SdkSignedIn {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly user: { readonly id: string; readonly organizationId: string };
}

/** Signs in as an SDK client: tokens in the body, no cookies. */
async function sdkSignIn(email: string, password = PASSWORD): Promise<SdkSignedIn> {
  const reply = await rest("POST", "/auth/signin", { body: { email, password } });
  assert.equal(reply.status, 200, `sign-in of ${email}: ${JSON.stringify(reply.body)}`);
  return kept(reply.body as SdkSignedIn);
}

function kept(signedIn: SdkSignedIn): SdkSignedIn {
  secrets.add(signedIn.accessToken);
  secrets.add(signedIn.refreshToken);
  return signedIn;
}

interface RestReply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

/** A JSON call to the REST API as an SDK client (no cookies, so no CSRF token needed). */
async function rest(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<RestReply> {
  const headers: Record<string, string> = { "x-sluice-client": "sdk", ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] ??= "application/json";
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers,
    body:
      options.body === undefined
        ? undefined
        : typeof options.body === "string"
          ? options.body
          : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: kept as text.
  }
  return { status: response.status, headers: response.headers, body };
}

/** A socket authenticated by bearer token, past Connected, answering the server's pings. */
async function connect(token: string, url = server.url): Promise<RawClient> {
  const client = await RawClient.connect(url, token);
  await client.next("connected");
  client.answerPings();
  return client;
}

async function subscribeReply(client: RawClient, channel: string): Promise<Reply> {
  const id = client.id();
  client.send({ kind: { case: "subscribe", value: { id, channel, presence: false } } });
  return client.next("reply", (r) => r.id === id);
}

async function subscribe(client: RawClient, channel: string): Promise<Subscribed> {
  const reply = await subscribeReply(client, channel);
  assert.equal(reply.outcome.case, "subscribed", `subscribe to ${channel}`);
  return reply.outcome.value as Subscribed;
}

/** The socket is told UNAUTHENTICATED in a Disconnect frame, then closed with 4005. */
async function closedUnauthenticated(client: RawClient): Promise<void> {
  const disconnect = await client.next("disconnect", () => true, 10_000);
  assert.equal(disconnect.code, CloseCode.UNAUTHENTICATED.code);
  assert.equal(disconnect.reconnect, false);
  assert.equal((await client.closed).code, CloseCode.UNAUTHENTICATED.code);
}

function errorCodeOf(reply: Reply): ErrorCode | undefined {
  return reply.outcome.case === "error" ? reply.outcome.value.code : undefined;
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

async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

describe("the Origin of a WebSocket upgrade", () => {
  let token: string;
  before(async () => {
    token = await signInKept(server.url, "ana@acme.test");
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
    const before = await metric("sluice_gateway_upgrades_refused_total", 'reason="origin"');
    for (const origin of foreign) {
      const credentials: Record<string, string>[] = [
        { cookie: `sluice_access=${token}` },
        { authorization: `Bearer ${token}` },
      ];
      for (const credential of credentials) {
        assert.deepEqual(await tryUpgrade({ origin, ...credential }), { status: 403 }, origin);
      }
    }
    assert.equal(await metric("sluice_gateway_upgrades_refused_total", 'reason="origin"'), before + 2 * foreign.length);
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

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[index]!, "base64url").toString("utf8")) as Record<string, unknown>;
}

/** A compact JWS signed with an Ed25519 key, or unsigned for alg "none". */
function craftToken(header: object, payload: object, key: KeyObject | undefined): string {
  const input = `${base64url(header)}.${base64url(payload)}`;
  const signature = key ? sign(null, Buffer.from(input), key).toString("base64url") : "";
  const token = `${input}.${signature}`;
  secrets.add(token);
  return token;
}

describe("bad access tokens at the WebSocket upgrade and on /auth/me", () => {
  const badTokens: Array<[string, string]> = [];

  before(async () => {
    const genuine = (await sdkSignIn("ana@acme.test")).accessToken;
    const header = decodePart(genuine, 0);
    const claims = decodePart(genuine, 1);
    const now = Math.floor(Date.now() / 1000);
    const otherKey = generateKeyPairSync("ed25519").privateKey;
    const [h, p, signature] = genuine.split(".");
    const flipped = `${h}.${p}.${signature!.startsWith("A") ? "B" : "A"}${signature!.slice(1)}`;
    secrets.add(flipped);
    const key = signingKey.privateKey;
    badTokens.push(
      ["a forged signature", flipped],
      ["claims changed under the genuine signature", `${h}.${base64url({ ...claims, name: "Mallory" })}.${signature}`],
      ["an expired token", craftToken(header, { ...claims, iat: now - 7200, exp: now - 3600 }, key)],
      ["a token signed by another key under the server's kid", craftToken(header, claims, otherKey)],
      ["a token naming a key the server does not have", craftToken({ ...header, kid: "not-a-key" }, claims, otherKey)],
      ["a token for another audience", craftToken(header, { ...claims, aud: "someone-else" }, key)],
      ["a token from another issuer", craftToken(header, { ...claims, iss: "https://evil.test" }, key)],
      ["an unsigned token (alg none)", craftToken({ ...header, alg: "none" }, claims, undefined)],
    );
    for (const [, token] of badTokens) secrets.add(token);
    // The genuine token's claims, re-signed by the server's own key, are accepted: the refusals
    // above are for what was changed, not for how the suite signs. (Whatever that key signs is
    // trusted, down to the session id and organization: only the server holds it.)
    const resigned = craftToken(header, claims, key);
    assert.equal((await rest("GET", "/auth/me", { token: resigned })).status, 200);
  });

  test("each is refused: the socket closed 4005 before any frame, /auth/me 401 UNAUTHENTICATED, nothing echoed", async () => {
    for (const [name, token] of badTokens) {
      const credentials: Record<string, string>[] = [
        { authorization: `Bearer ${token}` },
        { origin: server.url, cookie: `sluice_access=${token}` },
      ];
      for (const headers of credentials) {
        assert.deepEqual(
          await tryUpgrade(headers),
          { closeCode: CloseCode.UNAUTHENTICATED.code, frames: 0 },
          `${name} (${Object.keys(headers).join(", ")})`,
        );
      }
      const me = await rest("GET", "/auth/me", { token });
      assert.equal(me.status, 401, name);
      const body = me.body as { code: string; message: string };
      assert.equal(body.code, "UNAUTHENTICATED", name);
      assert.ok(!JSON.stringify(body).includes(token.split(".")[1]!), `${name}: the reply echoes no part of the token`);
    }
  });
});

/** The ids of one organization's project, order and route, as the suite fills them into requests. */
interface ForeignIds {
  readonly project: string;
  readonly order: string;
  readonly route: string;
}

/** Request fields that name an entity, and which kind. A new one must be added here, or the test fails. */
const idFieldKinds: Record<string, keyof ForeignIds> = {
  project_id: "project",
  order_id: "order",
  route_id: "route",
  order_ids: "order",
};

/** A valid request of `method` naming these ids: ids where the request has them, plain values elsewhere. */
function requestNaming(method: DescMethod, ids: ForeignIds): { init: Record<string, unknown>; namesIds: boolean } {
  const init: Record<string, unknown> = {};
  let namesIds = false;
  for (const field of method.input.fields) {
    if (field.proto.proto3Optional || field.fieldKind === "message" || field.fieldKind === "map") continue;
    if (/_ids?$/.test(field.name)) {
      const kind = idFieldKinds[field.name];
      assert.ok(kind, `${methodName(method)}: ${field.name} names an entity the suite has no foreign id for; add it`);
      init[field.localName] = field.fieldKind === "list" ? [ids[kind]] : ids[kind];
      namesIds = true;
    } else if (field.fieldKind === "scalar" && field.scalar === ScalarType.STRING) {
      init[field.localName] = "Security probe";
    } else if (field.fieldKind === "scalar" && field.scalar === ScalarType.DOUBLE) {
      init[field.localName] = 1;
    }
  }
  return { init, namesIds };
}

/** What a reply says, with the given ids replaced by a placeholder, to compare two replies. */
function replyText(reply: Reply, ids: ForeignIds): string {
  let text: string;
  if (reply.outcome.case === "error") {
    const { code, message, retriable } = reply.outcome.value;
    text = JSON.stringify({ error: ErrorCode[code], message, retriable });
  } else if (reply.outcome.case === "result") {
    text = toJsonString(AnySchema, reply.outcome.value, { registry });
  } else {
    text = JSON.stringify(reply.outcome);
  }
  for (const id of Object.values(ids)) text = text.replaceAll(id, "<id>");
  return text;
}

const dispatchMethods = services.flatMap((service) => service.methods);

describe("another organization's ids", () => {
  let acme: ForeignIds;
  let ana: RawClient;
  let gina: RawClient;

  before(async () => {
    ana = await connect(await signInKept(server.url, "ana@acme.test"));
    const project = (await ana.result(LIST_PROJECTS, ListProjectsRequestSchema, ProjectListSchema, {})).projects[0]!;
    const board = await ana.result(GET_ORDER_BOARD, GetOrderBoardRequestSchema, OrderBoardSchema, {
      projectId: project.projectId,
    });
    const routes = await ana.result(LIST_ROUTES, ListRoutesRequestSchema, RouteListSchema, {
      projectId: project.projectId,
    });
    acme = { project: project.projectId, order: board.orders[0]!.orderId, route: routes.routes[0]!.routeId };
    gina = await connect(await signInKept(server.url, "gina@globex.test"));
  });

  after(async () => {
    await ana.close();
    await gina.close();
  });

  /** What Acme has, as Ana sees it: must be the same after Gina's attempts. */
  async function acmeState(): Promise<string> {
    const sheet = await ana.result(GET_ROUTE_SHEET, GetRouteSheetRequestSchema, RouteSheetSchema, {
      routeId: acme.route,
    });
    const board = await ana.result(GET_ORDER_BOARD, GetOrderBoardRequestSchema, OrderBoardSchema, {
      projectId: acme.project,
    });
    const order = board.orders.find((o) => o.orderId === acme.order);
    return JSON.stringify([
      toJsonString(RouteSheetSchema, sheet),
      order && toJsonString(OrderBoardSchema, { ...board, orders: [order] }),
    ]);
  }

  test("every command and query answers Acme's ids exactly as ids that do not exist, and changes nothing", async () => {
    assert.ok(dispatchMethods.length >= 15, "the services' descriptors are iterated");
    const before = await acmeState();
    const missing: ForeignIds = { project: randomUUID(), order: randomUUID(), route: randomUUID() };
    // Everything of Acme's a reply could leak: its name, its places, all its ids but those the
    // request itself names (a NOT_FOUND may repeat what it was asked for).
    const acmeBoard = await ana.result(GET_ORDER_BOARD, GetOrderBoardRequestSchema, OrderBoardSchema, {
      projectId: acme.project,
    });
    const acmeTexts = [
      "Acme",
      "Rotterdam",
      ...acmeBoard.orders.map((o) => o.orderId).filter((id) => id !== acme.order),
    ];
    for (const method of dispatchMethods) {
      const name = methodName(method);
      const foreign = requestNaming(method, acme);
      const foreignReply = await gina.call(name, method.input, foreign.init);
      const foreignText = replyText(foreignReply, acme);
      // Nothing of Acme's comes back, in any reply.
      for (const text of acmeTexts)
        assert.ok(!replyText(foreignReply, missing).includes(text), `${name} leaked ${text}`);
      if (!foreign.namesIds) continue;
      const missingReply = await gina.call(name, method.input, requestNaming(method, missing).init);
      const code = errorCodeOf(foreignReply);
      assert.ok(
        code === ErrorCode.NOT_FOUND || code === ErrorCode.PERMISSION_DENIED,
        `${name}: refused NOT_FOUND or PERMISSION_DENIED, got ${foreignText}`,
      );
      assert.equal(
        foreignText,
        replyText(missingReply, missing),
        `${name}: the same reply as for ids that do not exist`,
      );
    }
    assert.equal(await acmeState(), before, "Acme's project, order and route are as they were");
  });

  test("subscribing to Acme's project and route channels is like subscribing to channels of nothing: no history, no events", async () => {
    const foreignChannels = [`project:${acme.project}`, `route:${acme.route}`];
    for (const channel of foreignChannels) {
      const foreign = await subscribe(gina, channel);
      const nothing = await subscribe(gina, channel.replace(/:.*/, `:${randomUUID()}`));
      assert.deepEqual(
        [foreign.publications.length, foreign.recovered, foreign.position?.offset, foreign.presence.length],
        [nothing.publications.length, nothing.recovered, nothing.position?.offset, nothing.presence.length],
        channel,
      );
      assert.equal(foreign.publications.length, 0, channel);
    }
    // Acme works on both channels; Ana, watching the route, sees it happen, Gina sees nothing.
    await subscribe(ana, `route:${acme.route}`);
    const { orderId } = await ana.result(CREATE_ORDER, CreateOrderRequestSchema, CreateOrderResponseSchema, {
      projectId: acme.project,
      consignee: "Seen by Acme only",
      address: "Kade 1, Rotterdam",
      weightKg: 5,
    });
    await ana.result(ASSIGN_ORDER, AssignOrderRequestSchema, CommandAcceptedSchema, {
      routeId: acme.route,
      orderId,
      position: 0,
    });
    await ana.next("publication", (p) => p.channel === `route:${acme.route}`);
    await bystander.client.next("publication", (p) => anyUnpack(p.event!, OrderCreatedSchema)?.orderId === orderId);
    await gina.roundTrip();
    assert.deepEqual(
      gina.frames.filter((f) => f.kind.case === "publication"),
      [],
      "no publication of Acme's reached Globex",
    );
  });
});

describe("a viewer", () => {
  test("is refused every command with PERMISSION_DENIED, and changes nothing", async () => {
    const vera = await connect(await signInKept(server.url, "vera@acme.test"));
    const project = (await vera.result(LIST_PROJECTS, ListProjectsRequestSchema, ProjectListSchema, {})).projects[0]!;
    const board = await vera.result(GET_ORDER_BOARD, GetOrderBoardRequestSchema, OrderBoardSchema, {
      projectId: project.projectId,
    });
    const routes = await vera.result(LIST_ROUTES, ListRoutesRequestSchema, RouteListSchema, {
      projectId: project.projectId,
    });
    const own: ForeignIds = {
      project: project.projectId,
      order: board.orders[0]!.orderId,
      route: routes.routes[0]!.routeId,
    };
    const before = JSON.stringify(
      toJsonString(
        RouteSheetSchema,
        await vera.result(GET_ROUTE_SHEET, GetRouteSheetRequestSchema, RouteSheetSchema, { routeId: own.route }),
      ),
    );
    const commands = dispatchMethods.filter((method) => methodPolicy(method)?.kind === MethodKind.COMMAND);
    assert.ok(commands.length >= 10);
    for (const method of commands) {
      assert.ok(methodPolicy(method)!.minRole !== Role.VIEWER, `${method.name} is a command a viewer may not run`);
      const reply = await vera.call(methodName(method), method.input, requestNaming(method, own).init);
      assert.equal(errorCodeOf(reply), ErrorCode.PERMISSION_DENIED, `${methodName(method)}: ${replyText(reply, own)}`);
    }
    const after = JSON.stringify(
      toJsonString(
        RouteSheetSchema,
        await vera.result(GET_ROUTE_SHEET, GetRouteSheetRequestSchema, RouteSheetSchema, { routeId: own.route }),
      ),
    );
    assert.equal(after, before);
    await vera.close();
  });
});

describe("revocation closes sockets (4005) within seconds", () => {
  test("signing out closes every socket of that session, and only those", async () => {
    const first = await sdkSignIn("ana@acme.test");
    const second = await sdkSignIn("ana@acme.test");
    const doomed = [await connect(first.accessToken), await connect(first.accessToken)];
    const survivor = await connect(second.accessToken);
    assert.equal((await rest("POST", "/auth/signout", { token: first.accessToken, body: {} })).status, 204);
    for (const client of doomed) await closedUnauthenticated(client);
    // The same token cannot open a new one.
    assert.deepEqual(await tryUpgrade({ authorization: `Bearer ${first.accessToken}` }), {
      closeCode: CloseCode.UNAUTHENTICATED.code,
      frames: 0,
    });
    await survivor.result(LIST_PROJECTS, ListProjectsRequestSchema, ProjectListSchema, {});
    await survivor.close();
  });

  test("a replayed refresh token revokes its session: its sockets close, neither token refreshes again", async () => {
    const signedIn = await sdkSignIn("ana@acme.test");
    const client = await connect(signedIn.accessToken);
    const refreshed = await rest("POST", "/auth/refresh", { body: { refreshToken: signedIn.refreshToken } });
    assert.equal(refreshed.status, 200);
    const next = kept(refreshed.body as SdkSignedIn);
    // The socket lives on through a refresh: same session.
    await client.roundTrip();

    const replay = await rest("POST", "/auth/refresh", { body: { refreshToken: signedIn.refreshToken } });
    assert.equal(replay.status, 401);
    assert.equal((replay.body as { code: string }).code, "UNAUTHENTICATED");
    await closedUnauthenticated(client);
    for (const attempt of [
      await rest("POST", "/auth/refresh", { body: { refreshToken: next.refreshToken } }),
      await rest("GET", "/auth/me", { token: next.accessToken }),
    ]) {
      assert.equal(attempt.status, 401);
    }
  });

  test("a member whose role changes, then who is removed, loses their sockets in that organization", async () => {
    const ana = await sdkSignIn("ana@acme.test");
    // A new member, invited by Ana: the invitation link goes to the log (the embedded shape's mail).
    const email = `mo-${randomUUID().slice(0, 8)}@acme.test`;
    const invited = await rest("POST", "/auth/invitations", {
      token: ana.accessToken,
      body: { email, role: "dispatcher" },
    });
    assert.equal(invited.status, 201);
    const link = logLines.map((line) => /invitation link: \S+#token=([\w-]+)/.exec(line)?.[1]).findLast(Boolean);
    assert.ok(link, "the invitation link is in the log");
    const password = `correct horse ${randomUUID()}`;
    secrets.add(password);
    const accepted = await rest("POST", "/auth/invitations/accept", {
      body: { token: link, displayName: "Mo", password },
    });
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    const mo = kept(accepted.body as SdkSignedIn);

    const sockets = [await connect(mo.accessToken), await connect(mo.accessToken)];
    const demoted = await rest("PATCH", `/auth/members/${mo.user.id}`, {
      token: ana.accessToken,
      body: { role: "viewer" },
    });
    assert.equal(demoted.status, 200);
    for (const socket of sockets) await closedUnauthenticated(socket);

    // Back with the same token, Mo holds the new role.
    const again = await connect(mo.accessToken);
    const projectId = bystander.projectId;
    const refused = await again.call(CREATE_ORDER, CreateOrderRequestSchema, {
      projectId,
      consignee: "Not any more",
      address: "Main St 1",
      weightKg: 1,
    });
    assert.equal(errorCodeOf(refused), ErrorCode.PERMISSION_DENIED);

    assert.equal((await rest("DELETE", `/auth/members/${mo.user.id}`, { token: ana.accessToken })).status, 204);
    await closedUnauthenticated(again);
    assert.deepEqual(await tryUpgrade({ authorization: `Bearer ${mo.accessToken}` }), {
      closeCode: CloseCode.UNAUTHENTICATED.code,
      frames: 0,
    });
    assert.equal((await rest("GET", "/auth/me", { token: mo.accessToken })).status, 401);
  });
});

describe("revocations the edge is not told of", () => {
  // This server's edge does not hear identity's revocations (which tell it of other processes'
  // too): only the periodic re-check of open sessions, the second line, can close the sockets.
  let other: RunningServer;
  before(async () => {
    other = await testServer({ hearRevocations: false, sessionRecheckMs: 250 } satisfies Partial<ServerConfig>);
  });
  after(() => other.close());

  async function otherSignIn(email: string): Promise<SdkSignedIn> {
    const response = await fetch(`${other.url}/auth/signin`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-sluice-client": "sdk" },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    assert.equal(response.status, 200);
    return kept((await response.json()) as SdkSignedIn);
  }

  test("the periodic re-check closes the sockets of a signed-out session and of a changed role; others stay", async () => {
    const [revoked, kept_, vera, ana] = await Promise.all([
      otherSignIn("ben@acme.test"),
      otherSignIn("ben@acme.test"),
      otherSignIn("vera@acme.test"),
      otherSignIn("ana@acme.test"),
    ]);
    const doomed = await connect(revoked.accessToken, other.url);
    const survivor = await connect(kept_.accessToken, other.url);
    const veraSocket = await connect(vera.accessToken, other.url);

    const signOut = await fetch(`${other.url}/auth/signout`, {
      method: "POST",
      headers: { authorization: `Bearer ${revoked.accessToken}`, "x-sluice-client": "sdk" },
    });
    assert.equal(signOut.status, 204);
    await closedUnauthenticated(doomed);

    const promote = await fetch(`${other.url}/auth/members/${vera.user.id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${ana.accessToken}`, "content-type": "application/json" },
      body: JSON.stringify({ role: "dispatcher" }),
    });
    assert.equal(promote.status, 200);
    await closedUnauthenticated(veraSocket);

    await survivor.result(LIST_PROJECTS, ListProjectsRequestSchema, ProjectListSchema, {});
    await survivor.roundTrip();
    assert.ok(!survivor.frames.some((f) => f.kind.case === "disconnect"));
    const text = await (await fetch(`${other.url}/metrics`)).text();
    assert.match(text, /sluice_gateway_session_recheck_seconds_count [1-9]/, "the re-check ran and was timed");
    await survivor.close();
  });
});

describe("oversized and malformed input", () => {
  test("REST: each is refused with its status and a JSON { code, message }, the password never hashed or echoed", async () => {
    const password = `pw-${randomUUID()}`;
    secrets.add(password);
    const signin = "/auth/signin";
    const cases: Array<[string, number, Parameters<typeof rest>[2]]> = [
      ["malformed JSON", 400, { body: '{"email": "ana@acme.test", "password": ' }],
      ["a JSON array", 400, { body: "[1, 2, 3]" }],
      [
        "a __proto__ key",
        400,
        { body: `{"email":"ana@acme.test","password":"${password}","__proto__":{"admin":true}}` },
      ],
      ["an email that is an object", 400, { body: { email: { $ne: null }, password } }],
      ["a password of 100 KB", 400, { body: { email: "ana@acme.test", password: "x".repeat(100_000) } }],
      ["deeply nested JSON", 400, { body: `${"[".repeat(50_000)}${"]".repeat(50_000)}` }],
      ["a body over the 1 MiB limit", 413, { body: { email: "ana@acme.test", password: "x".repeat(1_100_000) } }],
      [
        "a body that is not JSON",
        415,
        { body: `email=ana&password=${password}`, headers: { "content-type": "application/x-www-form-urlencoded" } },
      ],
    ];
    for (const [name, status, options] of cases) {
      const reply = await rest("POST", signin, options);
      assert.equal(reply.status, status, `${name}: ${JSON.stringify(reply.body).slice(0, 200)}`);
      const body = reply.body as { code?: unknown; message?: unknown };
      assert.equal(typeof body.code, "string", name);
      assert.equal(typeof body.message, "string", name);
      assert.ok(!JSON.stringify(body).includes(password), `${name}: the reply does not echo the password`);
    }
  });

  test("HTTP: headers over Node's limit are refused 431, on REST and on the WebSocket upgrade", async () => {
    const huge = "x".repeat(20_000);
    assert.equal((await rest("GET", "/auth/me", { headers: { cookie: `sluice_access=${huge}` } })).status, 431);
    assert.deepEqual(await tryUpgrade({ authorization: `Bearer ${huge}` }), { status: 431 });
    // Under the header limit, a long garbage token is only a bad token.
    assert.deepEqual(await tryUpgrade({ authorization: `Bearer ${"x".repeat(8000)}` }), {
      closeCode: CloseCode.UNAUTHENTICATED.code,
      frames: 0,
    });
  });

  test("WebSocket: oversized fields get typed errors and the socket lives; a frame past the transport cap is cut (1009)", async () => {
    const client = await connect(await signInKept(server.url, "ana@acme.test"));
    const big = "x".repeat(DEFAULT_MAX_FRAME_BYTES / 2);

    // A request whose Any names the right type but holds garbage bytes.
    const id = client.id();
    client.send({
      kind: {
        case: "call",
        value: {
          id,
          method: CREATE_ORDER,
          request: {
            $typeName: "google.protobuf.Any",
            typeUrl: `type.googleapis.com/${CreateOrderRequestSchema.typeName}`,
            value: new Uint8Array([0xff, 0xff, 0xff]),
          },
        },
      },
    });
    assert.equal(errorCodeOf(await client.next("reply", (r) => r.id === id)), ErrorCode.INVALID_ARGUMENT);

    const overLong = await client.call(CREATE_ORDER, CreateOrderRequestSchema, {
      projectId: bystander.projectId,
      consignee: big,
      address: "Main St 1",
      weightKg: 1,
    });
    assert.equal(errorCodeOf(overLong), ErrorCode.INVALID_ARGUMENT);

    const authenticateId = client.id();
    client.send({ kind: { case: "authenticate", value: { id: authenticateId, token: big } } });
    assert.equal(errorCodeOf(await client.next("reply", (r) => r.id === authenticateId)), ErrorCode.UNAUTHENTICATED);

    assert.equal(errorCodeOf(await subscribeReply(client, `project:${big}`)), ErrorCode.INVALID_ARGUMENT);
    assert.equal(errorCodeOf(await client.call(big, ListProjectsRequestSchema, {})), ErrorCode.UNKNOWN_METHOD);

    // Still the same socket, still working.
    await client.result(LIST_PROJECTS, ListProjectsRequestSchema, ProjectListSchema, {});
    client.sendRaw(new Uint8Array(DEFAULT_MAX_FRAME_BYTES * 4 + 1));
    assert.equal((await client.closed).code, 1009);
  });

  test("WebSocket JSON mapping: a frame of the wrong shape is a protocol violation (4004)", async () => {
    const token = await signInKept(server.url, "ana@acme.test");
    for (const frame of [
      '{"call": {"id": "seven"}}',
      '{"call": {"id": 1, "request": {"@type": "nope"}}}',
      "[]",
      "null",
    ]) {
      const client = await RawClient.connect(server.url, token, JSON_SUBPROTOCOL);
      await client.next("connected");
      client.sendRaw(frame);
      assert.equal((await client.closed).code, CloseCode.PROTOCOL_VIOLATION.code, frame);
    }
  });
});

/** A sign-in posted from a given loopback address, so one address can be locked out while the others work. */
function signInFrom(localAddress: string, email: string, password: string): Promise<RestReply> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(server.url);
    const body = JSON.stringify({ email, password });
    const request = httpRequest(
      {
        host: hostname,
        port,
        localAddress,
        method: "POST",
        path: "/auth/signin",
        headers: {
          "content-type": "application/json",
          "x-sluice-client": "sdk",
          "content-length": Buffer.byteLength(body),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers))
            if (typeof value === "string") headers.set(name, value);
          resolve({
            status: response.statusCode ?? 0,
            headers,
            body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
          });
        });
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

// Last: the lockouts last for the rest of this server's life.
describe("brute force on sign-in", () => {
  test("per email: after five wrong passwords, 429 with Retry-After, the same whether the email exists or not", async () => {
    const replies: Record<string, Array<[number, unknown]>> = {};
    for (const email of ["vera@acme.test", "nobody@acme.test"]) {
      replies[email] = [];
      for (let attempt = 0; attempt < 7; attempt++) {
        const wrong = `guess-${attempt}-${randomUUID()}`;
        secrets.add(wrong);
        const reply = await rest("POST", "/auth/signin", { body: { email, password: wrong } });
        replies[email]!.push([reply.status, reply.body]);
        if (reply.status === 429) assert.match(reply.headers.get("retry-after") ?? "", /^[1-9]\d*$/);
      }
    }
    assert.deepEqual(
      replies["vera@acme.test"]!.map(([status]) => status),
      [401, 401, 401, 401, 401, 429, 429],
    );
    assert.deepEqual(replies["vera@acme.test"], replies["nobody@acme.test"], "nothing tells the two apart");
    const locked = replies["vera@acme.test"]![5]![1] as { code: string };
    assert.equal(locked.code, "RESOURCE_EXHAUSTED");
    // Locked means locked: the right password waits too.
    assert.equal(
      (await rest("POST", "/auth/signin", { body: { email: "vera@acme.test", password: PASSWORD } })).status,
      429,
    );
    // Another user signs in as usual.
    await sdkSignIn("ana@acme.test");
  });

  test("per address: one address guessing across many emails is locked out; other addresses sign in", async () => {
    let status = 0;
    let attempts = 0;
    while (status !== 429) {
      assert.ok(attempts++ < 150, "the address was never locked out");
      const wrong = `spray-${randomUUID()}`;
      secrets.add(wrong);
      status = (await signInFrom("127.0.0.2", `user${attempts}@example.test`, wrong)).status;
      assert.ok(status === 401 || status === 429, `status ${status}`);
    }
    const locked = await signInFrom("127.0.0.2", "ana@acme.test", PASSWORD);
    assert.equal(locked.status, 429, "even a right password, from the locked address");
    assert.match(locked.headers.get("retry-after") ?? "", /^[1-9]\d*$/);
    const elsewhere = await signInFrom("127.0.0.3", "ana@acme.test", PASSWORD);
    assert.equal(elsewhere.status, 200);
    kept(elsewhere.body as SdkSignedIn);
  });
});
