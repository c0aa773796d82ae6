import type { Role } from "@sluice/contracts";

/** Who is calling, established by identity at sign-in and carried by every connection. */
export interface Session {
  readonly sessionId: string;
  readonly userId: string;
  readonly displayName: string;
  /** Always from the session, never from a request: no call can reach another organization. */
  readonly organizationId: string;
  readonly role: Role;
  /** Unix milliseconds. */
  readonly expiresAt: number;
}
