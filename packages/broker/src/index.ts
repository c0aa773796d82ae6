export type { Broker, BrokerListener, History, UnpositionedPublication } from "./broker";
export type { PresenceEntry, PresenceStore, PresenceUpdate } from "./presence-store";
export { MemoryBroker, type MemoryBrokerOptions } from "./memory-broker";
export { MemoryPresenceStore } from "./memory-presence-store";
export { RedisBroker, type RedisBrokerOptions } from "./redis-broker";
export { RedisPresenceStore, type RedisPresenceStoreOptions } from "./redis-presence-store";
export {
  openRedis,
  redisFailure,
  RedisUnavailableError,
  redisReachable,
  type RedisConnection,
  type RedisConnectionOptions,
} from "./redis-connection";
export { RedisScript } from "./redis-script";
export { channelOfOrganization, organizationChannel } from "./organization-channel";
