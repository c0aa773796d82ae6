const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const CHANNEL = new RegExp(`^(org|project:${UUID}|route:${UUID})$`, "i");

/** The channel names a client may subscribe to: `org`, `project:<uuid>`, `route:<uuid>`. */
export function isChannelName(channel: string): boolean {
  return CHANNEL.test(channel);
}
