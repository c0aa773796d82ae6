/**
 * The broker's name for a channel of one organization. The edge scopes a client's subscription
 * the same way from the session, so both sides meet without the client ever naming the organization.
 */
export function organizationChannel(organizationId: string, channel: string): string {
  return `${organizationId}/${channel}`;
}

/** The client's name of a channel the organization's scoping named `scoped`: its inverse. */
export function channelOfOrganization(organizationId: string, scoped: string): string {
  return scoped.slice(organizationId.length + 1);
}
