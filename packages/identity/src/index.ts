export { AccessTokens, tokenAudience, tokenIssuer, type AccessTokenClaims } from "./access-tokens";
export { demoPassword, type DemoSeed } from "./demo";
export { TooManyAttempts } from "./errors";
export {
  createIdentity,
  defaultAccessTokenTtlSeconds,
  normalizeEmail,
  type ClientContext,
  type Identity,
  type IdentityLogger,
  type IdentityOptions,
  type IdentityService,
  type SignedIn,
  type SignUp,
  type UserProfile,
} from "./identity";
export type { Invitation } from "./invitations";
export type { Member } from "./members";
export { lowHashCost, PasswordHasher, productionHashCost, type HashCost } from "./password-hasher";
export { clientHeaderName, createIdentityPlugin, type IdentityCore } from "./plugin";
export { accessCookieName, csrfCookieName, csrfHeaderName, refreshCookieName } from "./request-guard";
export type { Revocation, RevocationListener } from "./revocations";
export { roleFromName, roleName, roleNames, type RoleName } from "./roles";
export { identityMigrations } from "./schema";
export type { SessionSummary } from "./sessions";
export {
  defaultSignInLimits,
  MemoryAttemptCounters,
  type AttemptCount,
  type AttemptCounters,
  type KeyLimits,
  type SignInLimits,
} from "./sign-in-throttle";
export { IdentityConfigError } from "./config-error";
export type { KeyRing, SigningKey } from "./key-ring";
