/**
 * WebSocket close codes Sluice uses, in the 4000-4999 range left to applications. A client
 * reconnects after those marked reconnect; after the others it must act first (sign in again).
 */
export const CloseCode = {
  /** The server is shutting down or moving clients to other nodes. Reconnect. */
  SHUTDOWN: { code: 4001, reason: "shutting down", reconnect: true },
  /** The client sent nothing, not even a pong, for too long. Reconnect. */
  IDLE_TIMEOUT: { code: 4002, reason: "idle timeout", reconnect: true },
  /** The client read too slowly and its send queue overflowed. Reconnect and recover. */
  SLOW_CONSUMER: { code: 4003, reason: "slow consumer", reconnect: true },
  /** A frame that is not the protocol: wrong encoding, wrong subprotocol, over the size limit. */
  PROTOCOL_VIOLATION: { code: 4004, reason: "protocol violation", reconnect: false },
  /** The session expired or was revoked. Sign in again, then reconnect. */
  UNAUTHENTICATED: { code: 4005, reason: "unauthenticated", reconnect: false },
  /** Too many calls or subscriptions. Reconnect after a pause. */
  RATE_LIMITED: { code: 4006, reason: "rate limited", reconnect: true },
} as const;

export type CloseReason = (typeof CloseCode)[keyof typeof CloseCode];

export function closeReasonFor(code: number): CloseReason | undefined {
  return Object.values(CloseCode).find((reason) => reason.code === code);
}
