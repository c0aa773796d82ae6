export type { Broker, BrokerListener, History, UnpositionedPublication } from "./broker";
export type { PresenceEntry, PresenceStore, PresenceUpdate } from "./presence-store";
export { MemoryBroker, type MemoryBrokerOptions } from "./memory-broker";
export { MemoryPresenceStore } from "./memory-presence-store";
export { organizationChannel } from "./organization-channel";
