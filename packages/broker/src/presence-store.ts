import type { PresenceMember } from "@sluice/contracts/gen/sluice/v1/envelope_pb";

/** One connection present on a channel. */
export interface PresenceEntry {
  readonly clientId: string;
  readonly userId: string;
  readonly displayName: string;
}

/** What an add or remove changed for everyone else watching the channel. */
export interface PresenceUpdate {
  /** The user's entry after the change: connection count included. */
  readonly member: PresenceMember;
  /**
   * True only when the user's first connection arrived (on add) or the last one left (on
   * remove): the moments to tell others. A second tab of the same user changes nothing visible.
   */
  readonly changed: boolean;
}

/**
 * Who is on which channel, per connection, read back per user. MemoryPresenceStore (embedded) and
 * RedisPresenceStore (scale-out) pass one contract suite (presence-store-contract.ts).
 */
export interface PresenceStore {
  /** Adding the same connection twice counts it once. */
  add(channel: string, entry: PresenceEntry): Promise<PresenceUpdate>;
  /** Undefined when the connection was not present on the channel. */
  remove(channel: string, clientId: string): Promise<PresenceUpdate | undefined>;
  /** One member per user, with how many connections they have on the channel. */
  members(channel: string): Promise<PresenceMember[]>;
}
