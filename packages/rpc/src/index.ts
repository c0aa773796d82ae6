export { ErrorCode, RpcError, toRpcError } from "./error";
export { Router, authorize, type CallContext, type Route, type ServiceImpl } from "./router";
export type { Session } from "./session";
