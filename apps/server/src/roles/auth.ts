import { RedisAttemptCounters } from "@sluice/identity/redis";
import { registerApiDocs } from "../api-docs";
import { registerSecurityHeaders } from "../security-headers";
import { openIdentity } from "../source-edge";
import type { AuthConfig } from "./config";
import { openPostgres, startRole, type RunningRole } from "./role-process";

/**
 * Identity's REST service as a role of its own: sign-up, sign-in, refresh, sign-out, invitations
 * and members (`/auth`) and the JWKS (`/.well-known/jwks.json`), with their OpenAPI document at
 * /docs, on the database the gateways read sessions and keys from. A token it signs opens a socket
 * on any source gateway of the deployment. Source gateways serve the same endpoints unless told
 * not to (`SERVE_AUTH=false`); a load balancer then sends `/auth` and `/.well-known` here. Sign-in
 * is throttled on counters in Redis, which all of them share.
 */
export function startAuthRole(config: AuthConfig): Promise<RunningRole> {
  return startRole(config, async ({ app, cleanups }) => {
    const db = await openPostgres(config.database, cleanups);
    // Sign-in's attempt counters in Redis, shared by every process serving /auth (docs/identity.md).
    const counters = await RedisAttemptCounters.connect({
      ...config.redis,
      onError: (error) => app.log.warn({ err: error }, "redis"),
    });
    cleanups.push(() => counters.close());
    const identity = await openIdentity(db, config, app.log, counters);
    cleanups.push(async () => identity.close());
    // Cleanups run in reverse: requests in hand end before identity and the database close.
    cleanups.push(() => app.close());
    await registerSecurityHeaders(app);
    await registerApiDocs(app);
    await app.register(identity.plugin);
  });
}
