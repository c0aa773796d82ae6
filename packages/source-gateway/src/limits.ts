import { DEFAULT_MAX_FRAME_BYTES, DEFAULT_PING_INTERVAL_MS } from "@sluice/protocol";

/** What one connection may use. Announced to the client where the protocol says so (Connected). */
export interface GatewayLimits {
  /** Largest frame accepted; a larger one is a protocol violation. */
  readonly maxFrameBytes: number;
  readonly pingIntervalMs: number;
  /** Bytes waiting in a socket's send buffer before the client counts as a slow consumer. */
  readonly maxBufferedBytes: number;
  readonly maxSubscriptions: number;
  readonly maxCallsInFlight: number;
  /** Token bucket per connection: sustained calls per second, and the burst above it. */
  readonly callsPerSecond: number;
  readonly callBurst: number;
  /** A call still running after this is answered with TIMEOUT and its signal aborted. */
  readonly callTimeoutMs: number;
}

export const defaultLimits: GatewayLimits = {
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  pingIntervalMs: DEFAULT_PING_INTERVAL_MS,
  maxBufferedBytes: 1024 * 1024,
  maxSubscriptions: 256,
  maxCallsInFlight: 64,
  callsPerSecond: 50,
  callBurst: 100,
  callTimeoutMs: 30_000,
};
