export { startSinkGateway, type SinkGateway, type SinkGatewayOptions } from "./sink-gateway";
export { eventMetadata, eventPublication } from "./publication";
