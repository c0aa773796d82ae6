import { decodeProtectedHeader, errors, jwtVerify, SignJWT } from "jose";
import type { Role } from "@sluice/contracts";
import { unauthenticated } from "./errors";
import type { KeyRing } from "./key-ring";
import { roleFromName, roleName } from "./roles";

export const tokenAudience = "sluice";
export const tokenIssuer = "sluice";

/** What an access token says, before the session it names has been checked. */
export interface AccessTokenClaims {
  readonly userId: string;
  readonly organizationId: string;
  readonly role: Role;
  readonly displayName: string;
  readonly sessionId: string;
  /** Unix milliseconds, whole seconds (JWT `exp` × 1000). */
  readonly expiresAt: number;
  /** Unix milliseconds, whole seconds (JWT `iat` × 1000). */
  readonly issuedAt: number;
}

/** How many verified tokens to remember: a socket reconnecting with its token skips the signature check. */
const verifiedTokensKept = 10_000;

/** Signs and checks JWT access tokens: EdDSA or ES256, `kid` naming the key, aud and iss "sluice". */
export class AccessTokens {
  readonly #keys: KeyRing;
  /** Tokens whose signature and claims checked out, by their exact text; only expiry changes with time. */
  readonly #verified = new Map<string, AccessTokenClaims>();
  readonly #ttlSeconds: number;
  readonly #now: () => number;

  constructor(keys: KeyRing, ttlSeconds: number, now: () => number) {
    this.#keys = keys;
    this.#ttlSeconds = ttlSeconds;
    this.#now = now;
  }

  /** The expiry a token issued now gets, in Unix milliseconds (whole seconds). */
  nextExpiry(): number {
    return (Math.floor(this.#now() / 1000) + this.#ttlSeconds) * 1000;
  }

  async sign(claims: Omit<AccessTokenClaims, "issuedAt">): Promise<string> {
    const key = await this.#keys.signingKey();
    return new SignJWT({
      org: claims.organizationId,
      role: roleName(claims.role),
      name: claims.displayName,
      sid: claims.sessionId,
    })
      .setProtectedHeader({ alg: key.algorithm, kid: key.keyId, typ: "JWT" })
      .setSubject(claims.userId)
      .setAudience(tokenAudience)
      .setIssuer(tokenIssuer)
      .setIssuedAt(Math.floor(this.#now() / 1000))
      .setExpirationTime(Math.floor(claims.expiresAt / 1000))
      .sign(key.privateKey);
  }

  /** Key (by `kid`), signature, algorithm, audience, issuer, expiry and claim shapes; throws UNAUTHENTICATED. */
  async verify(token: string): Promise<AccessTokenClaims> {
    const known = this.#verified.get(token);
    if (known) {
      if (known.expiresAt > this.#now()) return known;
      this.#verified.delete(token);
      throw unauthenticated(expiredMessage);
    }
    const claims = await this.#verifyAnew(token);
    if (this.#verified.size >= verifiedTokensKept) {
      // Maps iterate in insertion order: the first key is the oldest.
      const oldest = this.#verified.keys().next();
      if (!oldest.done) this.#verified.delete(oldest.value);
    }
    this.#verified.set(token, claims);
    return claims;
  }

  async #verifyAnew(token: string): Promise<AccessTokenClaims> {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw unauthenticated("access token is malformed");
    }
    if (kid === undefined) throw unauthenticated("access token names no signing key");
    const key = await this.#keys.verificationKey(kid);
    if (!key) throw unauthenticated("access token is signed by a key Sluice does not know");

    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, key.publicKey, {
        algorithms: [key.algorithm],
        audience: tokenAudience,
        issuer: tokenIssuer,
        currentDate: new Date(this.#now()),
        requiredClaims: ["sub", "exp", "iat"],
      }));
    } catch (error) {
      throw unauthenticated(describeFailure(error));
    }
    const { sub, org, role, name, sid, exp, iat } = payload;
    const parsedRole = typeof role === "string" ? roleFromName(role) : undefined;
    if (
      typeof sub !== "string" ||
      typeof org !== "string" ||
      typeof name !== "string" ||
      typeof sid !== "string" ||
      typeof exp !== "number" ||
      typeof iat !== "number" ||
      parsedRole === undefined
    ) {
      throw unauthenticated("access token lacks the claims of a Sluice session");
    }
    return {
      userId: sub,
      organizationId: org,
      role: parsedRole,
      displayName: name,
      sessionId: sid,
      expiresAt: exp * 1000,
      issuedAt: iat * 1000,
    };
  }
}

const expiredMessage = "access token expired: refresh it or sign in again";

function describeFailure(error: unknown): string {
  if (error instanceof errors.JWTExpired) return expiredMessage;
  if (error instanceof errors.JWTClaimValidationFailed) return `access token rejected: ${error.claim} does not match`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return "access token signature is not valid";
  if (error instanceof errors.JOSEAlgNotAllowed)
    return "access token is signed with an algorithm Sluice does not accept";
  return "access token is malformed";
}
