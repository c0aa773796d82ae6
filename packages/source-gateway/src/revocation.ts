// Until the identity branch lands, the shape identity's onRevoked tells (issue 3 contract).
/** What identity took away: the sockets it names are closed. */
export type Revocation =
  | { readonly kind: "sessions"; readonly sessionIds: readonly string[] }
  | { readonly kind: "member"; readonly userId: string; readonly organizationId: string };
