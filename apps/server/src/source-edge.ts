import type { Broker, PresenceStore } from "@sluice/broker";
import type { CommandBus } from "@sluice/bus";
import type { Database } from "@sluice/database";
import { createIdentity, type AttemptCounters, type IdentityService } from "@sluice/identity";
import type { Router } from "@sluice/rpc";
import { SourceGateway } from "@sluice/source-gateway";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import type { ServerConfig } from "./config";
import { liveSessions } from "./live-sessions";

/** What identity reads from the configuration, in either shape and in every role that serves it. */
export type IdentityConfig = Pick<
  ServerConfig,
  | "hashCost"
  | "accessTokenTtlSeconds"
  | "jwtPrivateKeyPem"
  | "allowedOrigins"
  | "signInLimits"
  | "refreshReuseGraceSeconds"
>;

/** What identity and the WebSocket edge read from the configuration, in either shape. */
export type EdgeConfig = IdentityConfig & Pick<ServerConfig, "gatewayLimits" | "hearRevocations" | "sessionRecheckMs">;

/**
 * Identity (REST sign-in, tokens, revocations) on the database the sessions live in. Sign-in's
 * attempt counters are this process's own unless given (the scale-out shape gives Redis's).
 */
export function openIdentity(
  db: Database,
  config: IdentityConfig,
  log: FastifyBaseLogger,
  attemptCounters?: AttemptCounters,
): Promise<IdentityService> {
  return createIdentity({
    db,
    hashCost: config.hashCost,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    privateKeyPem: config.jwtPrivateKeyPem,
    allowedOrigins: config.allowedOrigins,
    signInLimits: config.signInLimits,
    refreshReuseGraceSeconds: config.refreshReuseGraceSeconds,
    logger: log,
    attemptCounters,
  });
}

export interface EdgeParts {
  readonly router: Router;
  readonly commandBus: CommandBus;
  readonly broker: Broker;
  readonly presence: PresenceStore;
  readonly identity: IdentityService;
  readonly db: Database;
  readonly metrics: Registry;
}

/**
 * The source gateway on the app's HTTP server (`/ws`): sessions from identity, commands onto the
 * command bus, queries through the router, publications and presence from the broker. Whether
 * those are in process or Kafka and Redis is the caller's choice.
 */
export function attachSourceGateway(app: FastifyInstance, parts: EdgeParts, config: EdgeConfig): SourceGateway {
  const { identity } = parts;
  const gateway = new SourceGateway({
    router: parts.router,
    commandBus: parts.commandBus,
    broker: parts.broker,
    presence: parts.presence,
    authenticate: (headers) => identity.authenticate(headers),
    verifyAccessToken: (token) => identity.verifyAccessToken(token),
    logger: app.log,
    metrics: parts.metrics,
    limits: config.gatewayLimits,
    allowedOrigins: config.allowedOrigins,
    revocations: config.hearRevocations === false ? undefined : (listener) => identity.onRevoked(listener),
    ...(config.sessionRecheckMs !== undefined && {
      verifySessions: liveSessions(parts.db, Date.now),
      sessionRecheckMs: config.sessionRecheckMs,
    }),
  });
  gateway.attach(app.server);
  return gateway;
}
