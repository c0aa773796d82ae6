import type { Publication, StreamPosition } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import type { FrameCodec } from "@sluice/protocol";
import type { Session } from "@sluice/rpc";
import type { WebSocket } from "ws";

/** One channel a connection holds. `pending` buffers publications while the subscribe recovers. */
export interface Subscription {
  readonly scoped: string;
  readonly presence: boolean;
  pending: Publication[] | undefined;
  /**
   * The channel's position when the broker lost its state, heard while the subscribe recovers:
   * told after the reply unless the reply's history was read after the loss (it is at or past it).
   */
  lost?: StreamPosition;
}

/**
 * What the edge keeps per socket: plain fields only, no timers or closures of its own (one
 * shared sweep drives heartbeats and expiry for every connection), and maps created on first use,
 * so an idle connection costs little beyond the socket itself.
 */
export class Connection {
  readonly socket: WebSocket;
  readonly codec: FrameCodec;
  readonly clientId: string;
  session: Session;
  /** Last time anything arrived from the client (ms). */
  lastSeenAt: number;
  closing = false;
  /** Call id -> its abort controller, for calls in flight. */
  calls: Map<number, AbortController> | undefined;
  /** Client channel name -> subscription. */
  subscriptions: Map<string, Subscription> | undefined;
  /**
   * Subscribes and unsubscribes of this connection run one after another: each awaits the broker
   * and the presence store, and an unsubscribe quickly followed by a subscribe to the same channel
   * must not have the first one's leave undo the second one's join.
   */
  channelOps: Promise<void> | undefined;
  tokens: number;
  tokensAt: number;

  constructor(socket: WebSocket, codec: FrameCodec, clientId: string, session: Session, burst: number) {
    this.socket = socket;
    this.codec = codec;
    this.clientId = clientId;
    this.session = session;
    this.lastSeenAt = Date.now();
    this.tokens = burst;
    this.tokensAt = this.lastSeenAt;
  }

  /** Runs a channel operation after the ones already queued on this connection. */
  queueChannelOp(operation: () => Promise<void>, onError: (error: unknown) => void): void {
    // A failed operation must not stop the ones queued after it.
    this.channelOps = (this.channelOps ?? Promise.resolve()).then(operation).catch(onError);
  }

  /** Token bucket: false when the connection has called faster than it may. */
  takeCallToken(now: number, perSecond: number, burst: number): boolean {
    this.tokens = Math.min(burst, this.tokens + ((now - this.tokensAt) * perSecond) / 1000);
    this.tokensAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
