import {
  create,
  type DescMessage,
  type DescMethodUnary,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { anyPack, anyUnpack, type Any } from "@bufbuild/protobuf/wkt";
import { MethodKind, methodName, methodPolicy } from "@sluice/contracts";
import {
  ClientFrameSchema,
  type ClientFrame,
  type Reply,
  type ServerFrame,
} from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import {
  CloseCode,
  DEFAULT_PING_INTERVAL_MS,
  closeReasonFor,
  jsonFrameCodec,
  protobufCodec,
  type FrameCodec,
} from "@sluice/protocol";
import { ErrorCode, RpcError } from "@sluice/rpc/error";
import { DEFAULT_BACKOFF, backoffDelay, checkBackoff, type BackoffOptions } from "./backoff";
import { ChannelSubscription } from "./channel-subscription";
import { randomId } from "./random-id";
import type {
  CallOptions,
  ClientOptions,
  ConnectionState,
  ConnectionStatus,
  ServiceClient,
  SessionInfo,
  SubscribeOptions,
  Subscription,
  WebSocketConstructor,
  WebSocketLike,
} from "./types";

/** A call from the moment it is made until it settles; it may be sent more than once. */
interface PendingCall {
  readonly method: string;
  readonly request: Any;
  readonly output: DescMessage;
  readonly idempotencyKey: string;
  readonly traceparent: string;
  /** Sends after a lost socket; one resend at most, so a call cannot loop a client forever. */
  resends: number;
  settle(outcome: { result: unknown } | { error: unknown }): void;
}

type AwaitedReply =
  | { readonly kind: "call"; readonly call: PendingCall }
  | { readonly kind: "subscribe"; readonly subscription: ChannelSubscription }
  | { readonly kind: "ack" };

const OPEN = 1;
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Re-authenticate this long before the session expires. */
const REAUTH_LEAD_MS = 60_000;

/**
 * One WebSocket to a Sluice node, kept open: calls with timeouts and an offline queue,
 * subscriptions recovered from their last position after every reconnect, heartbeats both ways.
 */
export class SluiceClient {
  readonly #url: string;
  readonly #token: ClientOptions["token"];
  readonly #WebSocket: WebSocketConstructor;
  readonly #codec: FrameCodec;
  readonly #callTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #backoff: BackoffOptions;
  readonly #onError: (error: unknown) => void;

  #status: ConnectionStatus = { state: "connecting" };
  #session: SessionInfo | undefined;
  readonly #stateListeners = new Set<(status: ConnectionStatus) => void>();
  /** close() was called: nothing will ever reopen this client. */
  #ended = false;

  #socket: WebSocketLike | undefined;
  #socketClosed: Promise<void> = Promise.resolve();
  #attempt = 0;
  #maxFrameBytes = 0;
  #lastHeardAt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** Subscriptions to send again after the server asked to retry them. */
  readonly #retryTimers = new Set<ReturnType<typeof setTimeout>>();
  #handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #reauthTimer: ReturnType<typeof setTimeout> | undefined;

  #nextId = 0;
  /** Calls not yet on a socket, in the order they were made. */
  #queue: PendingCall[] = [];
  readonly #awaiting = new Map<number, AwaitedReply>();
  readonly #channels = new Map<string, ChannelSubscription>();

  constructor(options: ClientOptions) {
    const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WebSocketImpl)
      throw new TypeError("no WebSocket implementation: pass options.WebSocket (the `ws` package in Node)");
    if (!/^wss?:\/\//.test(options.url)) throw new TypeError(`url must start with ws:// or wss://, got ${options.url}`);
    this.#url = options.url;
    this.#token = options.token;
    this.#WebSocket = WebSocketImpl;
    this.#codec = options.encoding === "json" ? jsonFrameCodec : protobufCodec;
    this.#callTimeoutMs = positive(options.callTimeoutMs ?? 10_000, "callTimeoutMs");
    this.#connectTimeoutMs = positive(options.connectTimeoutMs ?? 10_000, "connectTimeoutMs");
    this.#backoff = checkBackoff({ ...DEFAULT_BACKOFF, ...options.reconnect });
    this.#onError = options.onError ?? ((error) => console.error("sluice client:", error));
    if (options.autoConnect === false) this.#status = { state: "disconnected" };
    else void this.#connect();
    // Browsers say when the network is back: no reason to sit out the rest of a backoff.
    if (typeof globalThis.addEventListener === "function") globalThis.addEventListener("online", this.#onOnline);
  }

  readonly #onOnline = (): void => {
    if (this.#status.state === "disconnected" && this.#status.retryInMs !== undefined && !this.#socket)
      this.reconnect();
  };

  get state(): ConnectionState {
    return this.#status.state;
  }

  get status(): ConnectionStatus {
    return this.#status;
  }

  /** The server's Connected frame of the current socket; undefined while not connected. */
  get session(): SessionInfo | undefined {
    return this.#session;
  }

  /** Called on every change of state; returns the function that stops it. */
  onStateChange(listener: (status: ConnectionStatus) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  /**
   * Connects now: after the server refused the session (sign in first), or to skip the wait
   * of a scheduled reconnect (the browser came back online). Does nothing while connected.
   */
  reconnect(): void {
    if (this.#ended) throw new Error("this client was closed; create a new one");
    if (this.#socket) return;
    clearTimeout(this.#reconnectTimer);
    this.#attempt = 0;
    void this.#connect();
  }

  /** Ends the client for good: pending calls reject with UNAVAILABLE; resolves once the socket closed. */
  close(): Promise<void> {
    if (!this.#ended) {
      this.#ended = true;
      if (typeof globalThis.removeEventListener === "function")
        globalThis.removeEventListener("online", this.#onOnline);
      clearTimeout(this.#reconnectTimer);
      for (const timer of this.#retryTimers) clearTimeout(timer);
      this.#retryTimers.clear();
      this.#stopTimers();
      const socket = this.#socket;
      this.#socket = undefined;
      socket?.close(1000, "client closed");
      this.#failAll(new RpcError(ErrorCode.UNAVAILABLE, "client closed"));
      this.#setStatus({ state: "closed" });
    }
    return this.#socketClosed;
  }

  /** Calls one method. Resolves with its response; rejects with RpcError (or the signal's reason). */
  call<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    request: MessageInitShape<I>,
    options: CallOptions = {},
  ): Promise<MessageShape<O>> {
    const name = methodName(method);
    const isCommand = methodPolicy(method)?.kind === MethodKind.COMMAND;
    return new Promise<MessageShape<O>>((resolve, reject) => {
      if (this.#ended) return reject(new RpcError(ErrorCode.UNAVAILABLE, "client closed"));
      // Refused by the server (signed out, expired): waiting would only end in a timeout.
      if (this.#status.state === "closed") return reject(refusalError(this.#status));
      if (options.signal?.aborted) return reject(options.signal.reason);
      let packed: Any;
      try {
        packed = anyPack(method.input, create(method.input, request));
      } catch (error) {
        return reject(
          new RpcError(
            ErrorCode.INVALID_ARGUMENT,
            `${name}: ${error instanceof Error ? error.message : String(error)}`,
          ),
        );
      }
      const timeoutMs = options.timeoutMs ?? this.#callTimeoutMs;
      const onAbort = () => call.settle({ error: options.signal?.reason });
      const timer = setTimeout(
        () =>
          call.settle({
            error: new RpcError(ErrorCode.TIMEOUT, `${name} timed out after ${timeoutMs} ms`, { retriable: true }),
          }),
        Math.min(timeoutMs, MAX_TIMER_MS),
      );
      let settled = false;
      const call: PendingCall = {
        method: name,
        request: packed,
        output: method.output,
        idempotencyKey: isCommand ? (options.idempotencyKey ?? randomId()) : "",
        traceparent: options.traceparent ?? "",
        resends: 0,
        settle: (outcome) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          options.signal?.removeEventListener("abort", onAbort);
          this.#forget(call);
          if ("result" in outcome) resolve(outcome.result as MessageShape<O>);
          else reject(outcome.error);
        },
      };
      options.signal?.addEventListener("abort", onAbort, { once: true });
      if (this.#status.state === "connected") this.#sendCall(call);
      else this.#queue.push(call);
    });
  }

  /** Every method of a generated service as a typed function: `client.service(DispatchCommandService).createOrder({...})`. */
  service<S extends GenService<GenServiceMethods>>(service: S): ServiceClient<S> {
    const methods: Record<string, unknown> = {};
    for (const method of service.methods) {
      if (method.methodKind !== "unary") continue;
      const unary = method as DescMethodUnary;
      methods[method.localName] = (request: MessageInitShape<DescMessage>, options?: CallOptions) =>
        this.call(unary, request, options);
    }
    return methods as ServiceClient<S>;
  }

  /**
   * Receives a channel's publications from now on, across reconnects: after each one the client
   * resubscribes from its last position, delivers what it missed in order, and drops duplicates.
   */
  subscribe(channel: string, options: SubscribeOptions): Subscription {
    if (this.#ended) throw new Error("this client was closed; create a new one");
    let subscription = this.#channels.get(channel);
    const listener = { ...options };
    if (subscription) {
      subscription.listeners.add(listener);
      subscription.greet(listener);
    } else {
      subscription = new ChannelSubscription(channel, this.#onError, (gapped) => this.#resubscribe(gapped));
      subscription.listeners.add(listener);
      this.#channels.set(channel, subscription);
      if (this.#status.state === "connected") this.#sendSubscribe(subscription);
    }
    const held = subscription;
    return {
      channel,
      unsubscribe: () => {
        if (!held.listeners.delete(listener) || held.listeners.size > 0) return;
        if (this.#channels.get(channel) !== held) return;
        this.#channels.delete(channel);
        if (held.pendingId !== undefined) this.#awaiting.delete(held.pendingId);
        if ((held.live || held.pendingId !== undefined) && this.#status.state === "connected") {
          const id = this.#id();
          this.#awaiting.set(id, { kind: "ack" });
          this.#send(create(ClientFrameSchema, { kind: { case: "unsubscribe", value: { id, channel } } }));
        }
      },
    };
  }

  // ---- connection ----

  async #connect(): Promise<void> {
    this.#setStatus({ state: "connecting", ...(this.#status.error && { error: this.#status.error }) });
    let token: string | undefined;
    try {
      token = typeof this.#token === "function" ? await this.#token() : this.#token;
    } catch (error) {
      this.#onError(error);
      return this.#scheduleReconnect({ code: 1006, reason: "token unavailable" });
    }
    if (this.#ended || this.#socket) return;
    let socket: WebSocketLike;
    try {
      socket = new this.#WebSocket(
        this.#url,
        [this.#codec.subprotocol],
        token ? { headers: { Authorization: `Bearer ${token}` } } : undefined,
      );
    } catch (error) {
      this.#onError(error);
      return this.#scheduleReconnect({ code: 1006, reason: "cannot open socket" });
    }
    socket.binaryType = "arraybuffer";
    this.#socket = socket;
    let closed!: () => void;
    this.#socketClosed = new Promise((resolve) => (closed = resolve));
    // ws reports an HTTP 401 at upgrade only as an error; browsers report nothing. Keep what we learn.
    let upgradeRefused = false;
    this.#handshakeTimer = setTimeout(
      () => this.#lost(socket, CloseCode.IDLE_TIMEOUT.code, "no Connected frame in time"),
      this.#connectTimeoutMs,
    );
    socket.addEventListener("message", (event: { data: unknown }) => this.#receive(socket, event.data));
    socket.addEventListener("error", (event: { message?: string; error?: unknown }) => {
      if (/\b401\b/.test(String(event.message ?? event.error ?? ""))) upgradeRefused = true;
    });
    socket.addEventListener("close", (event: { code: number; reason: string }) => {
      closed();
      const code = upgradeRefused ? CloseCode.UNAUTHENTICATED.code : event.code;
      this.#lost(socket, code, event.reason || (upgradeRefused ? CloseCode.UNAUTHENTICATED.reason : "connection lost"));
    });
  }

  /** The socket is gone (closed, or declared dead): requeue what was in flight, then reconnect or stop. */
  #lost(socket: WebSocketLike, code: number, reason: string): void {
    if (socket !== this.#socket) return;
    this.#socket = undefined;
    this.#session = undefined;
    this.#stopTimers();
    if (socket.readyState <= OPEN) socket.close(code >= 3000 && code <= 4999 ? code : 1000);
    const inFlight: PendingCall[] = [];
    for (const awaited of this.#awaiting.values()) if (awaited.kind === "call") inFlight.push(awaited.call);
    this.#awaiting.clear();
    for (const subscription of this.#channels.values()) subscription.dropped();
    const unavailable = new RpcError(ErrorCode.UNAVAILABLE, `connection lost: ${reason}`, { retriable: true });
    const resend: PendingCall[] = [];
    for (const call of inFlight) {
      if (call.resends++ < 1) resend.push(call);
      else call.settle({ error: unavailable });
    }
    this.#queue = [...resend, ...this.#queue];
    if (this.#ended) return;
    const refusal = closeReasonFor(code);
    if (refusal && !refusal.reconnect) {
      this.#setStatus({ state: "closed", error: { code, reason } });
      this.#failAll(refusalError(this.#status));
      return;
    }
    // After RATE_LIMITED, wait as long as the backoff ever does.
    if (code === CloseCode.RATE_LIMITED.code) this.#attempt = Math.max(this.#attempt, 31);
    this.#scheduleReconnect({ code, reason });
  }

  #scheduleReconnect(error: { code: number; reason: string }): void {
    if (this.#ended) return;
    const delay = backoffDelay(this.#attempt++, this.#backoff);
    this.#setStatus({ state: "disconnected", error, retryInMs: delay });
    this.#reconnectTimer = setTimeout(() => void this.#connect(), delay);
  }

  #receive(socket: WebSocketLike, data: unknown): void {
    if (socket !== this.#socket) return;
    let frame: ServerFrame;
    try {
      frame = this.#codec.decodeServer(typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer));
    } catch {
      return this.#lost(socket, CloseCode.PROTOCOL_VIOLATION.code, "undecodable frame from server");
    }
    this.#lastHeardAt = Date.now();
    const kind = frame.kind;
    switch (kind.case) {
      case "connected":
        return this.#connected(kind.value);
      case "reply":
        return this.#reply(kind.value);
      case "publication":
        return this.#channels.get(kind.value.channel)?.publication(kind.value);
      case "presenceChange":
        return this.#channels.get(kind.value.channel)?.presenceChange(kind.value);
      case "stateLost":
        return this.#channels.get(kind.value.channel)?.stateLost();
      case "ping":
        this.#send(create(ClientFrameSchema, { kind: { case: "pong", value: {} } }));
        return;
      case "disconnect":
        // The close that follows carries the same code; nothing to do until then.
        return;
      default:
        return;
    }
  }

  #connected(connected: Extract<ServerFrame["kind"], { case: "connected" }>["value"]): void {
    clearTimeout(this.#handshakeTimer);
    this.#attempt = 0;
    this.#maxFrameBytes = connected.maxFrameBytes;
    const pingIntervalMs = connected.pingIntervalMs || DEFAULT_PING_INTERVAL_MS;
    this.#session = {
      clientId: connected.clientId,
      userId: connected.userId,
      organizationId: connected.organizationId,
      nodeId: connected.nodeId,
      pingIntervalMs,
      sessionExpiresAt: Number(connected.sessionExpiresAt),
    };
    this.#startHeartbeat(pingIntervalMs);
    this.#scheduleReauth(Number(connected.sessionExpiresAt));
    this.#setStatus({ state: "connected" });
    // Subscriptions first, so publications caused by the queued calls are not missed.
    for (const subscription of this.#channels.values()) this.#sendSubscribe(subscription);
    const queue = this.#queue;
    this.#queue = [];
    for (const call of queue) this.#sendCall(call);
  }

  #reply(reply: Reply): void {
    const awaited = this.#awaiting.get(reply.id);
    if (!awaited) return; // timed out, unsubscribed, or from before a reconnect
    this.#awaiting.delete(reply.id);
    const outcome = reply.outcome;
    if (awaited.kind === "call") {
      const call = awaited.call;
      if (outcome.case === "error") return call.settle({ error: RpcError.fromMessage(outcome.value) });
      const result = outcome.case === "result" ? anyUnpack(outcome.value, call.output) : undefined;
      if (result) return call.settle({ result });
      return call.settle({
        error: new RpcError(ErrorCode.INTERNAL, `${call.method}: unexpected reply ${outcome.case ?? "(empty)"}`),
      });
    }
    if (awaited.kind === "subscribe") {
      const subscription = awaited.subscription;
      if (subscription.pendingId !== reply.id) return;
      if (outcome.case === "subscribed") {
        subscription.refusals = 0;
        return subscription.confirmed(outcome.value);
      }
      const error =
        outcome.case === "error"
          ? RpcError.fromMessage(outcome.value)
          : new RpcError(
              ErrorCode.INTERNAL,
              `subscribe ${subscription.channel}: unexpected reply ${outcome.case ?? "(empty)"}`,
            );
      if (error.retriable) return this.#subscribeLater(subscription);
      this.#channels.delete(subscription.channel);
      return subscription.refused(error);
    }
    if (outcome.case === "authenticated") this.#scheduleReauth(Number(outcome.value.sessionExpiresAt));
  }

  // ---- sending ----

  #id(): number {
    this.#nextId = this.#nextId >= 0xffffffff ? 1 : this.#nextId + 1;
    return this.#nextId;
  }

  #send(frame: ClientFrame): boolean {
    const socket = this.#socket;
    if (!socket || socket.readyState !== OPEN) return false;
    socket.send(this.#codec.encodeClient(frame));
    return true;
  }

  #sendCall(call: PendingCall): void {
    const id = this.#id();
    const frame = create(ClientFrameSchema, {
      kind: {
        case: "call",
        value: {
          id,
          method: call.method,
          request: call.request,
          idempotencyKey: call.idempotencyKey,
          traceparent: call.traceparent,
        },
      },
    });
    const encoded = this.#codec.encodeClient(frame);
    const size = typeof encoded === "string" ? new TextEncoder().encode(encoded).length : encoded.length;
    // The server would close the socket on an oversized frame; refuse it here instead.
    if (this.#maxFrameBytes > 0 && size > this.#maxFrameBytes) {
      return call.settle({
        error: new RpcError(
          ErrorCode.TOO_LARGE,
          `${call.method}: ${size} bytes is over the limit of ${this.#maxFrameBytes}`,
        ),
      });
    }
    const socket = this.#socket;
    if (!socket || socket.readyState !== OPEN) return void this.#queue.push(call);
    this.#awaiting.set(id, { kind: "call", call });
    socket.send(encoded);
  }

  /**
   * The server could not subscribe just now (UNAVAILABLE: its broker out of reach) and said to try
   * again. Ending the subscription, as for a refusal, left the app listening to nothing for good
   * after a Redis outage; instead it is sent again after a backoff, from the same position, as
   * after a reconnect. Meanwhile nothing is delivered (recovered from the position later).
   */
  #subscribeLater(subscription: ChannelSubscription): void {
    subscription.dropped();
    const timer = setTimeout(
      () => {
        this.#retryTimers.delete(timer);
        // Not if unsubscribed meanwhile, or already subscribed again by a reconnect.
        if (this.#channels.get(subscription.channel) !== subscription) return;
        if (subscription.pendingId !== undefined || subscription.live || this.#status.state !== "connected") return;
        this.#sendSubscribe(subscription);
      },
      backoffDelay(subscription.refusals++, this.#backoff),
    );
    this.#retryTimers.add(timer);
  }

  /** Subscribes again on this socket, from the last position delivered: leave, then join, in order. */
  #resubscribe(subscription: ChannelSubscription): void {
    if (this.#status.state !== "connected" || subscription.pendingId !== undefined) return;
    const id = this.#id();
    this.#awaiting.set(id, { kind: "ack" });
    this.#send(
      create(ClientFrameSchema, { kind: { case: "unsubscribe", value: { id, channel: subscription.channel } } }),
    );
    this.#sendSubscribe(subscription);
  }

  #sendSubscribe(subscription: ChannelSubscription): void {
    const id = this.#id();
    const since = subscription.since();
    subscription.subscribing(id);
    this.#awaiting.set(id, { kind: "subscribe", subscription });
    this.#send(
      create(ClientFrameSchema, {
        kind: {
          case: "subscribe",
          value: { id, channel: subscription.channel, presence: subscription.presence, ...(since && { since }) },
        },
      }),
    );
  }

  /** Removes a settled call from wherever it waits. */
  #forget(call: PendingCall): void {
    const queued = this.#queue.indexOf(call);
    if (queued >= 0) this.#queue.splice(queued, 1);
    for (const [id, awaited] of this.#awaiting) {
      if (awaited.kind === "call" && awaited.call === call) {
        this.#awaiting.delete(id);
        break;
      }
    }
  }

  #failAll(error: RpcError): void {
    const calls = [...this.#queue];
    for (const awaited of this.#awaiting.values()) if (awaited.kind === "call") calls.push(awaited.call);
    for (const call of calls) call.settle({ error });
  }

  // ---- timers ----

  /** Pings the server every interval; a socket silent for two intervals is dead, whatever TCP says. */
  #startHeartbeat(intervalMs: number): void {
    clearInterval(this.#heartbeatTimer);
    this.#lastHeardAt = Date.now();
    const socket = this.#socket;
    this.#heartbeatTimer = setInterval(() => {
      if (!socket || socket !== this.#socket) return;
      if (Date.now() - this.#lastHeardAt > 2 * intervalMs)
        return this.#lost(socket, CloseCode.IDLE_TIMEOUT.code, "server silent");
      this.#send(create(ClientFrameSchema, { kind: { case: "ping", value: {} } }));
    }, intervalMs);
  }

  /** With a token function, fetch a fresh token before the session expires and send it in band. */
  #scheduleReauth(expiresAt: number): void {
    clearTimeout(this.#reauthTimer);
    const token = this.#token;
    if (typeof token !== "function" || !expiresAt) return;
    const left = expiresAt - Date.now();
    // A minute before expiry, but never sooner than a tenth of the time left: a token living a
    // minute or less would otherwise be renewed at once, and its successor too, in a loop.
    const delay = Math.max(left - REAUTH_LEAD_MS, left * 0.1);
    if (delay > MAX_TIMER_MS) return;
    const socket = this.#socket;
    this.#reauthTimer = setTimeout(async () => {
      try {
        const fresh = await token();
        if (socket !== this.#socket) return;
        const id = this.#id();
        this.#awaiting.set(id, { kind: "ack" });
        this.#send(create(ClientFrameSchema, { kind: { case: "authenticate", value: { id, token: fresh } } }));
      } catch (error) {
        // The server will close with UNAUTHENTICATED when the session ends; that is surfaced then.
        this.#onError(error);
      }
    }, delay);
  }

  #stopTimers(): void {
    clearTimeout(this.#handshakeTimer);
    clearInterval(this.#heartbeatTimer);
    clearTimeout(this.#reauthTimer);
  }

  #setStatus(status: ConnectionStatus): void {
    this.#status = status;
    for (const listener of [...this.#stateListeners]) {
      try {
        listener(status);
      } catch (error) {
        this.#onError(error);
      }
    }
  }
}

function refusalError(status: ConnectionStatus): RpcError {
  const { code, reason } = status.error ?? { code: 0, reason: "not connected" };
  return code === CloseCode.UNAUTHENTICATED.code
    ? new RpcError(ErrorCode.UNAUTHENTICATED, reason || CloseCode.UNAUTHENTICATED.reason)
    : new RpcError(ErrorCode.UNAVAILABLE, `server closed the connection: ${reason}`);
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}

export function createClient(options: ClientOptions): SluiceClient {
  return new SluiceClient(options);
}
