export { AccessTokens, tokenAudience, tokenIssuer, type AccessTokenClaims } from "./access-tokens";
export { demoPassword, type DemoSeed } from "./demo";
export {
  createIdentity,
  defaultAccessTokenTtlSeconds,
  normalizeEmail,
  type Identity,
  type IdentityOptions,
  type SignedIn,
  type UserProfile,
} from "./identity";
export { lowHashCost, PasswordHasher, productionHashCost, type HashCost } from "./password-hasher";
export { accessCookieName, createIdentityPlugin, type IdentityCore } from "./plugin";
export { roleFromName, roleName, type RoleName } from "./roles";
export { identityMigrations } from "./schema";
export { IdentityConfigError } from "./config-error";
export { loadSigningKey, type SigningKey, type SigningKeySource } from "./signing-key";
