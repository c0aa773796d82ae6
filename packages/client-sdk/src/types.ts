import type { DescMessage, DescMethodUnary, Message, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import type { EventMetadata, PresenceMember } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import type { BackoffOptions } from "./backoff";

export type { EventMetadata, PresenceMember };

/**
 * connecting: a socket is opening (first time or again).
 * connected: the server sent Connected; calls and subscriptions flow.
 * disconnected: the socket dropped; a reconnect is scheduled (`retryInMs`).
 * closed: no reconnect will happen: `close()` was called, or the server refused the session
 * (UNAUTHENTICATED, PROTOCOL_VIOLATION). After a refusal, `reconnect()` tries again.
 */
export type ConnectionState = "connecting" | "connected" | "disconnected" | "closed";

export interface ConnectionStatus {
  readonly state: ConnectionState;
  /** Why the last socket ended: its close code and reason. */
  readonly error?: { readonly code: number; readonly reason: string };
  /** In state disconnected: how long until the next attempt. */
  readonly retryInMs?: number;
}

/** What the server said about this connection in its Connected frame. */
export interface SessionInfo {
  readonly clientId: string;
  readonly userId: string;
  readonly organizationId: string;
  readonly nodeId: string;
  readonly pingIntervalMs: number;
  /** Unix milliseconds; 0 when unknown. */
  readonly sessionExpiresAt: number;
}

/**
 * The part of the WebSocket API the client uses: the browser's WebSocket and the `ws`
 * package both fit. The third constructor argument is ws's options (headers); browsers ignore it.
 */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "message", listener: (event: { readonly data: unknown }) => void): void;
  addEventListener(type: "close", listener: (event: { readonly code: number; readonly reason: string }) => void): void;
  /** ws puts the cause in `message`; browsers say nothing. */
  addEventListener(type: "error", listener: (event: { readonly message?: string }) => void): void;
}

export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
  options?: { headers?: Record<string, string> },
) => WebSocketLike;

export interface ClientOptions {
  /** ws://host/ws or wss://host/ws. */
  readonly url: string;
  /**
   * Sent as `Authorization: Bearer` at upgrade where the WebSocket implementation allows headers
   * (Node's `ws`); browsers rely on the `sluice_access` cookie instead. A function is asked
   * before every connection attempt and before the session expires (in-band re-authentication).
   */
  readonly token?: string | (() => Promise<string>);
  /** Default: globalThis.WebSocket. In Node pass `WebSocket` from the `ws` package. */
  readonly WebSocket?: WebSocketConstructor;
  /** Default "protobuf"; "json" speaks the canonical JSON mapping, readable in devtools. */
  readonly encoding?: "protobuf" | "json";
  /** Default 10 000. Counted from the call, so time spent queued while offline counts too. */
  readonly callTimeoutMs?: number;
  /** Default 10 000: how long a socket may take to open and send Connected. */
  readonly connectTimeoutMs?: number;
  /** Default { minDelayMs: 500, maxDelayMs: 20 000 }. */
  readonly reconnect?: Partial<BackoffOptions>;
  /** Default true. When false, nothing happens until `reconnect()`. */
  readonly autoConnect?: boolean;
  /** Where exceptions thrown by subscription handlers go. Default console.error. */
  readonly onError?: (error: unknown) => void;
}

export interface CallOptions {
  /** Overrides the client's callTimeoutMs for this call. */
  readonly timeoutMs?: number;
  /** Commands only. Generated when not given; kept across resends so a retry is safe. */
  readonly idempotencyKey?: string;
  /** Aborting rejects the call with the signal's reason; a command already sent may still apply. */
  readonly signal?: AbortSignal;
  /** W3C trace context to carry to the events the call causes. */
  readonly traceparent?: string;
}

/** One event delivered on a channel, its Any already unpacked through the contracts registry. */
export interface Publication {
  readonly channel: string;
  readonly offset: bigint;
  readonly epoch: string;
  /** The event message, e.g. a dispatch.v1.OrderCreated; narrow with isMessage(event, Schema). */
  readonly event: Message;
  readonly metadata: EventMetadata | undefined;
}

export interface PresenceEvent {
  readonly channel: string;
  readonly member: PresenceMember;
  readonly joined: boolean;
}

export interface SubscribedInfo {
  readonly channel: string;
  /**
   * True when everything published since this subscription's last delivered publication has
   * been delivered (recovered publications follow this callback, before live ones). False means
   * state must be loaded from queries: always so on the first confirmation, and after a gap
   * the server could not fill. After the server lost the channel's history (a new epoch), the
   * publications of the new epoch it still holds follow this callback too: fold them over the
   * queries' answers by version.
   */
  readonly recovered: boolean;
  /** The members present on the channel (subscriptions with presence only). */
  readonly presence: readonly PresenceMember[];
}

export interface SubscribeOptions {
  /** Ask for presence: the members now, and joins and leaves as they happen. */
  readonly presence?: boolean;
  onPublication(publication: Publication): void;
  onPresence?(change: PresenceEvent): void;
  onSubscribed?(info: SubscribedInfo): void;
  /**
   * The server refused the subscription (e.g. PERMISSION_DENIED); it has ended. A refusal the
   * server calls retriable (UNAVAILABLE) is not told: the client subscribes again after a backoff.
   */
  onError?(error: Error): void;
}

export interface Subscription {
  readonly channel: string;
  unsubscribe(): void;
}

type MethodCaller<M> =
  M extends DescMethodUnary<infer I, infer O>
    ? (request: MessageInitShape<I>, options?: CallOptions) => Promise<MessageShape<O>>
    : never;

/** Every unary method of a generated service as a function, typed from the contract. */
export type ServiceClient<S extends GenService<GenServiceMethods>> = {
  readonly [K in keyof S["method"]]: MethodCaller<S["method"][K]>;
};

export type { DescMessage };
