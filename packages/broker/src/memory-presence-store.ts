import { create } from "@bufbuild/protobuf";
import { PresenceMemberSchema, type PresenceMember } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import type { PresenceEntry, PresenceStore, PresenceUpdate } from "./presence-store";

/** A channel's presence: connection -> user, and per user the display name and connection count. */
class ChannelPresence {
  readonly userOf = new Map<string, string>();
  readonly users = new Map<string, { displayName: string; connections: number }>();
}

/** The embedded shape's presence: one process sees every connection. */
export class MemoryPresenceStore implements PresenceStore {
  readonly #channels = new Map<string, ChannelPresence>();

  async add(channel: string, entry: PresenceEntry): Promise<PresenceUpdate> {
    let presence = this.#channels.get(channel);
    if (!presence) this.#channels.set(channel, (presence = new ChannelPresence()));
    const user = presence.users.get(entry.userId) ?? { displayName: entry.displayName, connections: 0 };
    if (presence.userOf.has(entry.clientId)) return { member: member(entry.userId, user), changed: false };
    presence.userOf.set(entry.clientId, entry.userId);
    user.connections += 1;
    presence.users.set(entry.userId, user);
    return { member: member(entry.userId, user), changed: user.connections === 1 };
  }

  async remove(channel: string, clientId: string): Promise<PresenceUpdate | undefined> {
    const presence = this.#channels.get(channel);
    const userId = presence?.userOf.get(clientId);
    const user = userId === undefined ? undefined : presence?.users.get(userId);
    if (!presence || userId === undefined || !user) return undefined;
    presence.userOf.delete(clientId);
    user.connections -= 1;
    if (user.connections === 0) presence.users.delete(userId);
    if (presence.userOf.size === 0) this.#channels.delete(channel);
    return { member: member(userId, user), changed: user.connections === 0 };
  }

  async members(channel: string): Promise<PresenceMember[]> {
    const presence = this.#channels.get(channel);
    return presence ? [...presence.users].map(([userId, user]) => member(userId, user)) : [];
  }
}

function member(userId: string, user: { displayName: string; connections: number }): PresenceMember {
  return create(PresenceMemberSchema, { userId, displayName: user.displayName, connections: user.connections });
}
