export {
  DRAIN_TIMEOUT_MS,
  SourceGateway,
  type DrainOptions,
  type GatewayLogger,
  type LiveSession,
  type SourceGatewayOptions,
} from "./source-gateway";
export { defaultLimits, type GatewayLimits } from "./limits";
export { isChannelName } from "./channel-name";
