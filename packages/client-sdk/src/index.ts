// The Sluice client: one WebSocket, typed calls, subscriptions that survive reconnects.
// The Redux middleware lives in "@sluice/client-sdk/redux".
export { SluiceClient, createClient } from "./client";
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff";
export { ChannelCursor, type StreamPosition } from "./channel-cursor";
export type {
  CallOptions,
  ClientOptions,
  ConnectionState,
  ConnectionStatus,
  EventMetadata,
  PresenceEvent,
  PresenceMember,
  Publication,
  ServiceClient,
  SessionInfo,
  SubscribeOptions,
  SubscribedInfo,
  Subscription,
  WebSocketConstructor,
  WebSocketLike,
} from "./types";
export { ErrorCode, RpcError } from "@sluice/rpc/error";
