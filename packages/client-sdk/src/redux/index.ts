// Redux Toolkit bindings: actions typed from the generated services, the middleware that turns
// them into calls and subscriptions, and the connection status slice.
export {
  SLUICE_CALL,
  callFulfilled,
  callRejected,
  isCallAction,
  isEvent,
  sluiceConnection,
  sluicePresence,
  sluicePublication,
  sluiceSubscribe,
  sluiceSubscribeFailed,
  sluiceSubscribed,
  sluiceUnsubscribe,
  type CallMeta,
  type ConnectionPayload,
  type PublicationPayload,
  type SluiceCallAction,
} from "./actions";
export { callActions, type CallActionCreators, type CallActionOptions } from "./call-actions";
export { createSluiceMiddleware, type SluiceDispatch } from "./middleware";
export { connectionSlice, selectConnection, type ConnectionSliceState } from "./connection-slice";
export { serializeError, type SerializedRpcError } from "./serialized-error";
