import { create, type Message } from "@bufbuild/protobuf";
import { anyPack, anyUnpack } from "@bufbuild/protobuf/wkt";
import { organizationChannel, type Broker, type PresenceStore } from "@sluice/broker";
import type { CommandBus } from "@sluice/bus";
import { MethodKind, Role, roleAllows } from "@sluice/contracts";
import {
  ServerFrameSchema,
  type Authenticate,
  type Call,
  type ClientFrame,
  type Publication,
  type ReplySchema,
  type Subscribe,
  type Unsubscribe,
} from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import { CloseCode, PROTOBUF_SUBPROTOCOL, codecFor, type CloseReason } from "@sluice/protocol";
import { ErrorCode, RpcError, toRpcError, type Router, type Session } from "@sluice/rpc";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage, Server } from "node:http";
import { hostname } from "node:os";
import type { Duplex } from "node:stream";
import { Registry } from "prom-client";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import { isChannelName } from "./channel-name";
import { Connection, type Subscription } from "./connection";
import { ConnectionsBy } from "./connections-by";
import { EncodedFrame, FanOut, stateLostFrame } from "./fan-out";
import { defaultLimits, type GatewayLimits } from "./limits";
import { GatewayMetrics } from "./metrics";
import { isAllowedOrigin, parseOrigin } from "@sluice/identity/origin";
import type { Revocation } from "@sluice/identity";

/** The few logger methods the edge uses; pino (Fastify's logger) fits. */
export interface GatewayLogger {
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

export interface SourceGatewayOptions {
  readonly router: Router;
  readonly commandBus: CommandBus;
  readonly broker: Broker;
  readonly presence: PresenceStore;
  /** Establishes the session at upgrade from cookies or an Authorization header; throws when there is none. */
  readonly authenticate: (headers: IncomingHttpHeaders) => Promise<Session>;
  /** Verifies a fresh access token sent in band (Authenticate frame); throws when invalid. */
  readonly verifyAccessToken: (token: string) => Promise<Session>;
  readonly logger: GatewayLogger;
  readonly metrics?: Registry;
  readonly nodeId?: string;
  /** The upgrade path. */
  readonly path?: string;
  /**
   * Browser origins besides the server's own that may open a socket (`https://app.example.com`).
   * An upgrade with any other `Origin` is refused with HTTP 403.
   */
  readonly allowedOrigins?: readonly string[];
  readonly limits?: Partial<GatewayLimits>;
  /**
   * Tells the gateway of revocations made in this process (identity's `onRevoked`); returns the
   * unsubscribe. The sockets of a revoked session or member are closed with UNAUTHENTICATED.
   */
  readonly revocations?: (listener: (revocation: Revocation) => void) => () => void;
  /**
   * Reads the sessions of open sockets again, a batch of ids at a time: answers each live one as
   * it is now (role included); an id missing from the answer is revoked, expired or gone. This
   * catches revocations made by other processes (scale-out) that `revocations` never hears of.
   */
  readonly verifySessions?: (sessionIds: readonly string[]) => Promise<ReadonlyMap<string, LiveSession>>;
  /** How often `verifySessions` runs over the open sockets' sessions. Default 5 s. */
  readonly sessionRecheckMs?: number;
}

/** What the periodic re-check compares with a socket's session: a change closes the socket. */
export type LiveSession = Pick<Session, "userId" | "organizationId" | "role">;

export interface DrainOptions {
  /** Connections told to go per batch, so clients do not all reconnect to the next node at once. */
  readonly batchSize?: number;
  readonly batchIntervalMs?: number;
}

type ReplyOutcome = MessageInitShape<typeof ReplySchema>["outcome"];

/**
 * How long a drain waits for told sockets to close before it cuts the rest: the longest a
 * gateway's drain takes after SIGTERM (deploy/ sizes the grace periods from it).
 */
export const DRAIN_TIMEOUT_MS = 5000;

const EXPIRY_SWEEP_MS = 1000;
const DEFAULT_SESSION_RECHECK_MS = 5000;
/** Session ids per `verifySessions` call: one query each, small enough not to stall the loop. */
const SESSION_RECHECK_BATCH = 500;

/**
 * The edge that holds the sockets: authenticates at upgrade, takes calls in (queries to the
 * router, commands to the command bus), delivers publications and presence, and keeps every
 * connection within its limits. One gateway per process; one heartbeat sweep for all sockets.
 */
export class SourceGateway {
  readonly limits: GatewayLimits;
  readonly nodeId: string;
  readonly #options: SourceGatewayOptions;
  readonly #path: string;
  readonly #allowedOrigins: ReadonlySet<string>;
  readonly #wss: WebSocketServer;
  readonly #connections = new Map<WebSocket, Connection>();
  /** Open connections by session id and by user id: a revocation closes what it names, no scan. */
  readonly #bySession = new ConnectionsBy<string, Connection>();
  readonly #byUser = new ConnectionsBy<string, Connection>();
  readonly #stopRevocations: (() => void) | undefined;
  readonly #sessionRecheck: NodeJS.Timeout | undefined;
  #rechecking = false;
  /** Upgrades between their session check and their socket's entry in the indexes. */
  #upgrading = 0;
  /** Revocations heard while any upgrade was in flight (performance.now() when heard). */
  #revokedDuringUpgrades: Array<{ readonly at: number; readonly revocation: Revocation }> = [];
  readonly #metrics: GatewayMetrics;
  readonly #fanOut: FanOut;
  readonly #heartbeat: NodeJS.Timeout;
  readonly #expirySweep: NodeJS.Timeout;
  #draining = false;
  /**
   * The TCP sockets written to in this turn of the event loop, corked by their first write; one
   * `process.nextTick` uncorks them all, so the frames a turn gives a socket (the publications of a
   * consumer batch) leave in one writev instead of one each. Corked bytes count in `bufferedAmount`.
   */
  readonly #corked = new Set<Duplex>();
  readonly #uncorkAll = () => {
    for (const socket of this.#corked) socket.uncork();
    this.#corked.clear();
  };

  constructor(options: SourceGatewayOptions) {
    this.#options = options;
    this.limits = { ...defaultLimits, ...options.limits };
    this.nodeId = options.nodeId ?? `${hostname()}-${process.pid}`;
    this.#path = options.path ?? "/ws";
    this.#allowedOrigins = new Set(
      (options.allowedOrigins ?? []).map((origin) => {
        const parsed = parseOrigin(origin);
        if (!parsed) throw new TypeError(`allowedOrigins: ${JSON.stringify(origin)} is not an origin`);
        return parsed.origin;
      }),
    );
    this.#metrics = new GatewayMetrics(options.metrics ?? new Registry());
    this.#fanOut = new FanOut(options.broker, (connection, data) => this.#write(connection, data), this.#metrics);
    this.#wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      // The protocol's own limit is checked per message (close 4004 with a Disconnect frame); this
      // hard cap only stops the transport from buffering absurd messages (close 1009).
      maxPayload: this.limits.maxFrameBytes * 4,
      perMessageDeflate: false,
      handleProtocols: (offered) => [...offered].find((p) => codecFor(p) !== undefined) ?? false,
    });
    this.#heartbeat = setInterval(() => this.#beat(), this.limits.pingIntervalMs);
    this.#heartbeat.unref();
    this.#expirySweep = setInterval(() => this.#closeExpired(), Math.min(EXPIRY_SWEEP_MS, this.limits.pingIntervalMs));
    this.#expirySweep.unref();
    this.#stopRevocations = options.revocations?.(this.#revoke);
    if (options.verifySessions) {
      const every = options.sessionRecheckMs ?? DEFAULT_SESSION_RECHECK_MS;
      this.#sessionRecheck = setInterval(() => void this.#recheckSessions(), every);
      this.#sessionRecheck.unref();
    }
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Takes over the HTTP server's upgrades on the gateway's path. */
  attach(server: Server): void {
    server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.handleUpgrade(request, socket, head).catch((error: unknown) => {
        this.#options.logger.error({ err: error }, "websocket upgrade failed");
        refuse(socket, 500, "Internal Server Error");
      });
    });
  }

  async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", ignore);
    const path = (request.url ?? "/").split("?")[0];
    if (path !== this.#path) return refuse(socket, 404, "Not Found");
    if (this.#draining) return refuse(socket, 503, "Service Unavailable");
    const origin = request.headers.origin;
    if (origin !== undefined && !isAllowedOrigin(origin, request.headers.host, this.#allowedOrigins)) {
      // Refused before anything else, with a status the page's script cannot read.
      this.#metrics.upgradesRefused.inc({ reason: "origin" });
      return refuse(socket, 403, "Forbidden");
    }
    const offered = (request.headers["sec-websocket-protocol"] ?? "")
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean);
    if (offered.length > 0 && !offered.some((p) => codecFor(p))) return refuse(socket, 400, "Bad Request");
    // Without an Origin the client is not a browser: it brings its own bearer token, and a cookie
    // (a browser's credential, only trusted with an Origin checked above) does not count.
    const headers = origin === undefined ? { ...request.headers, cookie: undefined } : request.headers;
    this.#upgrading++;
    const startedAt = performance.now();
    let session: Session | undefined;
    try {
      session = await this.#options.authenticate(headers).catch(() => undefined);
      // A revocation told while the session was being read cannot have found this socket in the
      // indexes: check it against what was told meanwhile.
      const revoked = (heard: { at: number; revocation: Revocation }) =>
        heard.at >= startedAt && revokes(heard.revocation, session!);
      if (session && this.#revokedDuringUpgrades.some(revoked)) {
        session = undefined;
      }
    } finally {
      if (--this.#upgrading === 0) this.#revokedDuringUpgrades = [];
    }
    if (socket.destroyed) return;
    if (!session || session.expiresAt <= Date.now()) {
      this.#metrics.upgradesRefused.inc({ reason: "unauthenticated" });
      // A browser cannot read the status of a refused upgrade (it only sees 1006), so the socket
      // is opened only to be closed with UNAUTHENTICATED: it never holds a session, calls nothing.
      const { code, reason } = CloseCode.UNAUTHENTICATED;
      return this.#wss.handleUpgrade(request, socket, head, (ws) => ws.close(code, reason));
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) => this.#accept(ws, session));
  }

  /**
   * Stops taking new sockets and tells the open ones to go (Disconnect SHUTDOWN, reconnect
   * elsewhere) in batches. Resolves when all are closed.
   */
  async drain(options: DrainOptions = {}): Promise<void> {
    this.#draining = true;
    const batchSize = options.batchSize ?? 500;
    const interval = options.batchIntervalMs ?? 50;
    let batch = 0;
    for (const connection of [...this.#connections.values()]) {
      this.#close(connection, CloseCode.SHUTDOWN);
      if (++batch % batchSize === 0) await delay(interval);
    }
    const giveUpAt = Date.now() + DRAIN_TIMEOUT_MS;
    while (this.#connections.size > 0 && Date.now() < giveUpAt) await delay(20);
    for (const socket of this.#connections.keys()) socket.terminate();
  }

  async close(): Promise<void> {
    // In batches: a stopping gateway's clients reconnect to the others spread over time, not at once.
    if (!this.#draining) await this.drain();
    clearInterval(this.#heartbeat);
    clearInterval(this.#expirySweep);
    clearInterval(this.#sessionRecheck);
    this.#stopRevocations?.();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #accept(socket: WebSocket, session: Session): void {
    const codec = codecFor(socket.protocol || PROTOBUF_SUBPROTOCOL)!;
    const connection = new Connection(socket, codec, randomUUID(), session, this.limits.callBurst);
    this.#connections.set(socket, connection);
    this.#index(connection);
    this.#metrics.connections.inc();
    socket.on("message", this.#onMessage);
    socket.on("close", this.#onClose);
    socket.on("error", ignore);
    this.#send(connection, {
      kind: {
        case: "connected",
        value: {
          clientId: connection.clientId,
          userId: session.userId,
          organizationId: session.organizationId,
          pingIntervalMs: this.limits.pingIntervalMs,
          maxFrameBytes: this.limits.maxFrameBytes,
          nodeId: this.nodeId,
          sessionExpiresAt: BigInt(session.expiresAt),
        },
      },
    });
  }

  // Shared by every socket (ws calls listeners with `this` as the socket): no closure per connection.
  readonly #onMessage = (() => {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the listener's own `this` is the socket
    const gateway = this;
    return function (this: WebSocket, data: RawData, isBinary: boolean) {
      gateway.#receive(this, data, isBinary);
    };
  })();

  readonly #onClose = (() => {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the listener's own `this` is the socket
    const gateway = this;
    return function (this: WebSocket) {
      gateway.#closed(this);
    };
  })();

  #receive(socket: WebSocket, data: RawData, isBinary: boolean): void {
    const connection = this.#connections.get(socket);
    if (!connection || connection.closing) return;
    connection.lastSeenAt = Date.now();
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (bytes.length > this.limits.maxFrameBytes) {
      return this.#close(
        connection,
        CloseCode.PROTOCOL_VIOLATION,
        `frame of ${bytes.length} bytes exceeds ${this.limits.maxFrameBytes}`,
      );
    }
    let frame: ClientFrame;
    try {
      frame = connection.codec.decodeClient(connection.codec.binary || isBinary ? bytes : bytes.toString("utf8"));
    } catch {
      return this.#close(connection, CloseCode.PROTOCOL_VIOLATION, `undecodable ${connection.codec.subprotocol} frame`);
    }
    switch (frame.kind.case) {
      case "call":
        return void this.#call(connection, frame.kind.value);
      case "subscribe": {
        const subscribe = frame.kind.value;
        return connection.queueChannelOp(() => this.#subscribe(connection, subscribe), this.#channelOpFailed);
      }
      case "unsubscribe": {
        const unsubscribe = frame.kind.value;
        return connection.queueChannelOp(() => this.#unsubscribe(connection, unsubscribe), this.#channelOpFailed);
      }
      case "authenticate":
        return void this.#authenticate(connection, frame.kind.value);
      case "ping":
        return this.#send(connection, { kind: { case: "pong", value: {} } });
      case "pong":
        return;
      default:
        return this.#close(connection, CloseCode.PROTOCOL_VIOLATION, "frame of no known kind");
    }
  }

  async #call(connection: Connection, call: Call): Promise<void> {
    const started = performance.now();
    const route = this.#options.router.route(call.method);
    const methodLabel = route ? route.name : "unknown";
    const answer = (outcome: ReplyOutcome, label: string) => {
      this.#reply(connection, call.id, outcome);
      this.#metrics.calls.inc({ method: methodLabel, outcome: label });
    };
    const fail = (error: RpcError) =>
      answer({ case: "error", value: error.toMessage() }, ErrorCode[error.code] ?? "UNKNOWN");

    const calls = (connection.calls ??= new Map());
    if (calls.has(call.id)) {
      return fail(new RpcError(ErrorCode.DUPLICATE_CALL_ID, `call ${call.id} is already in flight on this connection`));
    }
    if (
      calls.size >= this.limits.maxCallsInFlight ||
      !connection.takeCallToken(Date.now(), this.limits.callsPerSecond, this.limits.callBurst)
    ) {
      return fail(new RpcError(ErrorCode.RATE_LIMITED, "too many calls: slow down", { retriable: true }));
    }
    if (!route) return fail(new RpcError(ErrorCode.UNKNOWN_METHOD, `${call.method} is not a method of this server`));
    const inputType = route.method.input;
    let request: Message | undefined;
    try {
      request = call.request ? anyUnpack(call.request, inputType) : undefined;
    } catch {
      request = undefined;
    }
    if (!request) {
      const got = call.request?.typeUrl.split("/").pop() || "nothing";
      return fail(new RpcError(ErrorCode.INVALID_ARGUMENT, `${route.name} takes ${inputType.typeName}, got ${got}`));
    }

    const controller = new AbortController();
    calls.set(call.id, controller);
    const session = connection.session;
    const commandId = call.idempotencyKey || randomUUID();
    const context = {
      session,
      commandId,
      correlationId: randomUUID(),
      traceparent: call.traceparent || undefined,
      signal: controller.signal,
    };
    const isCommand = route.policy.kind === MethodKind.COMMAND;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(
          new RpcError(ErrorCode.TIMEOUT, `${route.name} took longer than ${this.limits.callTimeoutMs} ms`, {
            retriable: true,
          }),
        );
      }, this.limits.callTimeoutMs);
    });
    try {
      this.#options.router.admit(route, request, session);
      const running = isCommand
        ? this.#options.commandBus.send({ method: route.name, request, ...context }, controller.signal)
        : this.#options.router.run(route, request, context);
      const result = await Promise.race([running, timeout]);
      answer({ case: "result", value: anyPack(route.method.output, result) }, "ok");
    } catch (error) {
      if (!(error instanceof RpcError)) {
        this.#options.logger.error({ err: error, method: route.name, commandId }, "call failed unexpectedly");
      }
      fail(toRpcError(error));
    } finally {
      clearTimeout(timer);
      calls.delete(call.id);
      this.#metrics.callSeconds.observe(
        { kind: isCommand ? "command" : "query" },
        (performance.now() - started) / 1000,
      );
    }
  }

  readonly #channelOpFailed = (error: unknown): void => {
    this.#options.logger.error({ err: error }, "channel operation failed");
  };

  async #subscribe(connection: Connection, subscribe: Subscribe): Promise<void> {
    const { id, channel } = subscribe;
    const subscriptions = (connection.subscriptions ??= new Map());
    const refuse = (error: RpcError) => this.#reply(connection, id, { case: "error", value: error.toMessage() });
    if (!isChannelName(channel)) {
      return refuse(
        RpcError.invalidArgument([
          { field: "channel", rule: "channel.name", message: "must be org, project:<uuid> or route:<uuid>" },
        ]),
      );
    }
    if (!roleAllows(connection.session.role, Role.VIEWER)) {
      return refuse(new RpcError(ErrorCode.PERMISSION_DENIED, "your role may not subscribe"));
    }
    if (subscriptions.has(channel))
      return refuse(new RpcError(ErrorCode.ALREADY_EXISTS, `already subscribed to ${channel}`));
    if (subscriptions.size >= this.limits.maxSubscriptions) {
      return refuse(
        new RpcError(ErrorCode.RATE_LIMITED, `at most ${this.limits.maxSubscriptions} subscriptions per connection`),
      );
    }

    const scoped = organizationChannel(connection.session.organizationId, channel);
    // Subscribed to the broker before reading history, buffering meanwhile: nothing published in
    // between can fall into the gap.
    const subscription: Subscription = { scoped, presence: subscribe.presence, pending: [] };
    subscriptions.set(channel, subscription);
    this.#metrics.subscriptions.inc();
    try {
      await this.#fanOut.add(scoped, connection);
      const history = await this.#options.broker.history(scoped, subscribe.since);
      let joined;
      if (subscription.presence) {
        const update = await this.#options.presence.add(scoped, {
          clientId: connection.clientId,
          userId: connection.session.userId,
          displayName: connection.session.displayName,
        });
        if (update.changed) joined = update.member;
      }
      if (connection.closing || subscriptions.get(channel) !== subscription) {
        // Unsubscribed or closed while recovering: the leave path already ran, undo what it could not see.
        if (subscription.presence) await this.#options.presence.remove(scoped, connection.clientId);
        return;
      }
      const members = subscription.presence ? await this.#options.presence.members(scoped) : [];
      const last = history.position.offset;
      this.#reply(connection, id, {
        case: "subscribed",
        value: {
          channel,
          position: history.position,
          recovered: history.recovered,
          publications: [...history.publications],
          presence: members,
        },
      });
      const pending = subscription.pending ?? [];
      subscription.pending = undefined;
      const lost = subscription.lost;
      subscription.lost = undefined;
      if (lost && !(history.position.epoch === lost.epoch && history.position.offset >= lost.offset)) {
        // The reply's history was read before the broker lost the channel's state: it is stale.
        this.#write(connection, connection.codec.encodeServer(stateLostFrame(channel)));
        this.#metrics.stateLostTold.inc();
      }
      for (const publication of pending) {
        if (publication.offset > last) this.#sendPublication(connection, publication);
      }
      if (joined) {
        await this.#options.broker.publishPresence(scoped, {
          $typeName: "sluice.v1.PresenceChange",
          channel,
          member: joined,
          joined: true,
        });
      }
    } catch (error) {
      this.#options.logger.error({ err: error, channel: scoped }, "subscribe failed");
      if (subscriptions.get(channel) === subscription) await this.#leave(connection, channel, subscription);
      refuse(new RpcError(ErrorCode.UNAVAILABLE, `could not subscribe to ${channel}`, { retriable: true }));
    }
  }

  async #unsubscribe(connection: Connection, unsubscribe: Unsubscribe): Promise<void> {
    const subscription = connection.subscriptions?.get(unsubscribe.channel);
    if (subscription) await this.#leave(connection, unsubscribe.channel, subscription);
    this.#reply(connection, unsubscribe.id, { case: "unsubscribed", value: { channel: unsubscribe.channel } });
  }

  async #leave(connection: Connection, channel: string, subscription: Subscription): Promise<void> {
    connection.subscriptions?.delete(channel);
    this.#metrics.subscriptions.dec();
    try {
      await this.#fanOut.remove(subscription.scoped, connection);
      if (!subscription.presence) return;
      const update = await this.#options.presence.remove(subscription.scoped, connection.clientId);
      if (update?.changed) {
        await this.#options.broker.publishPresence(subscription.scoped, {
          $typeName: "sluice.v1.PresenceChange",
          channel,
          member: update.member,
          joined: false,
        });
      }
    } catch (error) {
      this.#options.logger.warn({ err: error, channel: subscription.scoped }, "leaving a channel failed");
    }
  }

  async #authenticate(connection: Connection, frame: Authenticate): Promise<void> {
    let session: Session;
    try {
      session = await this.#options.verifyAccessToken(frame.token);
    } catch {
      const error = new RpcError(ErrorCode.UNAUTHENTICATED, "the token is not valid");
      return this.#reply(connection, frame.id, { case: "error", value: error.toMessage() });
    }
    if (session.userId !== connection.session.userId || session.organizationId !== connection.session.organizationId) {
      const error = new RpcError(ErrorCode.PERMISSION_DENIED, "the token belongs to another user or organization");
      return this.#reply(connection, frame.id, { case: "error", value: error.toMessage() });
    }
    this.#unindex(connection);
    connection.session = session;
    this.#index(connection);
    this.#reply(connection, frame.id, {
      case: "authenticated",
      value: { sessionExpiresAt: BigInt(session.expiresAt) },
    });
  }

  #closed(socket: WebSocket): void {
    const connection = this.#connections.get(socket);
    if (!connection) return;
    connection.closing = true;
    this.#connections.delete(socket);
    this.#unindex(connection);
    this.#metrics.connections.dec();
    for (const controller of connection.calls?.values() ?? []) controller.abort();
    for (const [channel, subscription] of connection.subscriptions ?? [])
      void this.#leave(connection, channel, subscription);
  }

  /** Every ping interval: ping everyone, and close who has been silent for two. */
  #beat(): void {
    const silentSince = Date.now() - 2 * this.limits.pingIntervalMs;
    const ping = new EncodedFrame(create(ServerFrameSchema, { kind: { case: "ping", value: {} } }));
    for (const connection of this.#connections.values()) {
      if (connection.closing) continue;
      if (connection.lastSeenAt < silentSince) this.#close(connection, CloseCode.IDLE_TIMEOUT);
      else this.#write(connection, ping.for(connection.codec));
    }
  }

  #index(connection: Connection): void {
    this.#bySession.add(connection.session.sessionId, connection);
    this.#byUser.add(connection.session.userId, connection);
  }

  #unindex(connection: Connection): void {
    this.#bySession.delete(connection.session.sessionId, connection);
    this.#byUser.delete(connection.session.userId, connection);
  }

  /** Closes the sockets a revocation names, at once. */
  readonly #revoke = (revocation: Revocation): void => {
    if (this.#upgrading > 0) {
      // Kept while upgrades overlap, but not forever under a steady stream of them.
      const at = performance.now();
      this.#revokedDuringUpgrades = this.#revokedDuringUpgrades.filter((heard) => heard.at > at - 60_000);
      this.#revokedDuringUpgrades.push({ at, revocation });
    }
    if (revocation.kind === "sessions") {
      for (const sessionId of revocation.sessionIds) {
        for (const connection of this.#bySession.get(sessionId)) {
          this.#close(connection, CloseCode.UNAUTHENTICATED, "the session was signed out or revoked");
        }
      }
      return;
    }
    for (const connection of this.#byUser.get(revocation.userId)) {
      if (connection.session.organizationId === revocation.organizationId) {
        this.#close(connection, CloseCode.UNAUTHENTICATED, "your membership changed: sign in again");
      }
    }
  };

  /**
   * Every few seconds: the sessions of all open sockets, read again in batches. Closes the sockets
   * of sessions no longer live, and of those whose role changed (the client reconnects with it).
   * A failed read closes nothing: a database hiccup must not drop every socket.
   */
  async #recheckSessions(): Promise<void> {
    const verifySessions = this.#options.verifySessions;
    if (!verifySessions || this.#rechecking) return;
    this.#rechecking = true;
    const started = performance.now();
    try {
      const sessionIds = [...this.#bySession.keys()];
      for (let start = 0; start < sessionIds.length; start += SESSION_RECHECK_BATCH) {
        const batch = sessionIds.slice(start, start + SESSION_RECHECK_BATCH);
        const live = await verifySessions(batch);
        for (const sessionId of batch) {
          const current = live.get(sessionId);
          // Read from the index again: sockets closed or re-authenticated meanwhile have left it.
          for (const connection of this.#bySession.get(sessionId)) {
            if (!current) {
              this.#close(connection, CloseCode.UNAUTHENTICATED, "the session was signed out or revoked");
            } else if (
              current.role !== connection.session.role ||
              current.userId !== connection.session.userId ||
              current.organizationId !== connection.session.organizationId
            ) {
              this.#close(connection, CloseCode.UNAUTHENTICATED, "your membership changed: sign in again");
            }
          }
        }
      }
    } catch (error) {
      this.#options.logger.warn({ err: error }, "re-checking the sessions of open sockets failed");
    } finally {
      this.#rechecking = false;
      this.#metrics.sessionRecheckSeconds.observe((performance.now() - started) / 1000);
    }
  }

  #closeExpired(): void {
    const now = Date.now();
    for (const connection of this.#connections.values()) {
      if (!connection.closing && connection.session.expiresAt <= now) {
        this.#close(connection, CloseCode.UNAUTHENTICATED, "the session expired");
      }
    }
  }

  #reply(connection: Connection, id: number, outcome: ReplyOutcome): void {
    this.#send(connection, { kind: { case: "reply", value: { id, outcome } } });
  }

  #sendPublication(connection: Connection, publication: Publication): void {
    this.#send(connection, { kind: { case: "publication", value: publication } });
    this.#metrics.publicationsDelivered.inc();
  }

  #send(connection: Connection, frame: MessageInitShape<typeof ServerFrameSchema>): void {
    if (connection.closing) return;
    this.#write(connection, connection.codec.encodeServer(create(ServerFrameSchema, frame)));
  }

  #write(connection: Connection, data: Uint8Array | string): void {
    const socket = connection.socket;
    if (connection.closing || socket.readyState !== WebSocket.OPEN) return;
    const size = typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
    if (socket.bufferedAmount + size > this.limits.maxBufferedBytes) {
      this.#metrics.sendQueueDrops.inc();
      return this.#close(connection, CloseCode.SLOW_CONSUMER);
    }
    this.#cork(socket);
    socket.send(data, { binary: connection.codec.binary });
  }

  #cork(socket: WebSocket): void {
    // ws keeps its TCP socket in `_socket`, not public API: without it, writes go out uncorked.
    const tcp = (socket as unknown as { _socket?: Duplex })._socket;
    if (typeof tcp?.cork !== "function" || this.#corked.has(tcp)) return;
    tcp.cork();
    if (this.#corked.size === 0) process.nextTick(this.#uncorkAll);
    this.#corked.add(tcp);
  }

  /** Says why in a Disconnect frame, then closes with the same code. */
  #close(connection: Connection, reason: CloseReason, detail?: string): void {
    if (connection.closing) return;
    connection.closing = true;
    const text = detail ?? reason.reason;
    const disconnect = create(ServerFrameSchema, {
      kind: { case: "disconnect", value: { code: reason.code, reason: text, reconnect: reason.reconnect } },
    });
    // Written past the send-buffer check: it is small, and the last thing this socket gets.
    if (connection.socket.readyState === WebSocket.OPEN) {
      connection.socket.send(connection.codec.encodeServer(disconnect), { binary: connection.codec.binary });
    }
    this.#metrics.closes.inc({ code: String(reason.code) });
    if (reason.code === CloseCode.PROTOCOL_VIOLATION.code) {
      this.#options.logger.info(
        { clientId: connection.clientId, userId: connection.session.userId, detail: text },
        "protocol violation",
      );
    }
    // Close reasons are limited to 123 bytes by the WebSocket protocol.
    connection.socket.close(reason.code, reason.reason);
  }
}

function revokes(revocation: Revocation, session: Session): boolean {
  return revocation.kind === "sessions"
    ? revocation.sessionIds.includes(session.sessionId)
    : revocation.userId === session.userId && revocation.organizationId === session.organizationId;
}

function refuse(socket: Duplex, status: number, text: string): void {
  if (!socket.destroyed) {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function ignore(): void {}
