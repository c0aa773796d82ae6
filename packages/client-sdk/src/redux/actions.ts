import { createAction } from "@reduxjs/toolkit";
import type { DescMessage, JsonValue, MessageJsonType } from "@bufbuild/protobuf";
import type { EventMetadataJson, PresenceMemberJson } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import type { ConnectionState } from "../types";
import type { SerializedRpcError } from "./serialized-error";

/** Identifies one call through its action, its fulfilled or rejected action, and the store. */
export interface CallMeta {
  /** "dispatch.v1.DispatchQueryService/GetOrderBoard". */
  readonly method: string;
  readonly requestId: string;
}

/**
 * Asks the middleware to call a method. Made by `callActions(Service).method(request)`; the
 * middleware returns a Promise of the JSON response from `dispatch`.
 */
export interface SluiceCallAction<Request = JsonValue, Response = JsonValue> {
  readonly type: "sluice/call";
  readonly payload: {
    readonly request: Request;
    readonly timeoutMs?: number;
    readonly idempotencyKey?: string;
  };
  readonly meta: CallMeta;
  /** Never present: carries the response type to the dispatch signature. */
  readonly __response?: Response;
}

export const SLUICE_CALL = "sluice/call" as const;

export function isCallAction(action: unknown): action is SluiceCallAction {
  return typeof action === "object" && action !== null && (action as { type?: unknown }).type === SLUICE_CALL;
}

export const callFulfilled = createAction("sluice/call/fulfilled", (response: JsonValue, meta: CallMeta) => ({
  payload: response,
  meta,
}));

export const callRejected = createAction("sluice/call/rejected", (error: SerializedRpcError, meta: CallMeta) => ({
  payload: error,
  meta,
  error: true,
}));

export const sluiceSubscribe = createAction(
  "sluice/subscribe",
  (channel: string, options: { presence?: boolean } = {}) => ({
    payload: { channel, presence: options.presence ?? false },
  }),
);

export const sluiceUnsubscribe = createAction("sluice/unsubscribe", (channel: string) => ({ payload: { channel } }));

/** One event on a channel, in the Protobuf JSON mapping (64-bit integers as strings). */
export interface PublicationPayload<Event = JsonValue> {
  readonly channel: string;
  readonly offset: string;
  readonly epoch: string;
  /** The event's type name: "dispatch.v1.OrderCreated". */
  readonly type: string;
  readonly event: Event;
  readonly metadata: EventMetadataJson | null;
}

export const sluicePublication = createAction<PublicationPayload>("sluice/publication");

export const sluicePresence = createAction<{ channel: string; member: PresenceMemberJson; joined: boolean }>(
  "sluice/presence",
);

/** recovered false: load the channel's state from queries (always so on the first subscribe). */
export const sluiceSubscribed = createAction<{ channel: string; recovered: boolean; presence: PresenceMemberJson[] }>(
  "sluice/subscribed",
);

/** The server refused a subscription (e.g. PERMISSION_DENIED). */
export const sluiceSubscribeFailed = createAction<{ channel: string; error: SerializedRpcError }>(
  "sluice/subscribeFailed",
);

export interface ConnectionPayload {
  readonly state: ConnectionState;
  readonly error: { readonly code: number; readonly reason: string } | null;
  readonly retryInMs: number | null;
  /** Unix milliseconds of the change, stamped by the middleware so reducers stay pure. */
  readonly at: number;
}

export const sluiceConnection = createAction<ConnectionPayload>("sluice/connection");

type PublicationAction<Event> = ReturnType<typeof sluicePublication> & { payload: PublicationPayload<Event> };

/**
 * A matcher for publications of one event type, typed from its generated schema:
 * `builder.addMatcher(isEvent(OrderCreatedSchema), (state, { payload }) => payload.event.orderId)`.
 */
export function isEvent<Desc extends DescMessage>(schema: Desc) {
  return (action: unknown): action is PublicationAction<MessageJsonType<Desc>> =>
    sluicePublication.match(action) && action.payload.type === schema.typeName;
}
