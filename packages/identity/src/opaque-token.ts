import { createHash, randomBytes } from "node:crypto";

/** A random secret handed out once (refresh tokens, invitation links, CSRF values): 256 bits, base64url. */
export function newOpaqueToken(): string {
  return randomBytes(32).toString("base64url");
}

/** What the database keeps instead of the token: finding the row needs the token itself. */
export function hashOpaqueToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}
