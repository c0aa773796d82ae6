import { z } from "zod";
import { ConfigError, edgeEnv, LogLevel } from "../config";
import type { EdgeConfig, IdentityConfig } from "../source-edge";

export const roleNames = ["source-gateway", "sink-gateway", "domain-service", "projector", "auth"] as const;
export type RoleName = (typeof roleNames)[number];

/** Where each role listens when PORT is not set: the source gateway for browsers, the others for operations. */
const defaultPorts: Record<RoleName, number> = {
  "source-gateway": 8080,
  "sink-gateway": 8081,
  "domain-service": 8082,
  projector: 8083,
  auth: 8084,
};

const PostgresUrl = z
  .string({ error: "required: postgres://user:password@host:port/database" })
  .refine((url) => URL.canParse(url) && ["postgres:", "postgresql:"].includes(new URL(url).protocol), {
    error: "must be postgres://user:password@host:port/database",
  });

const RedisUrl = z
  .string()
  .default("redis://127.0.0.1:6379")
  .refine((url) => URL.canParse(url) && ["redis:", "rediss:"].includes(new URL(url).protocol), {
    error: "must be redis://host:port[/db]",
  });

const BrokerList = z
  .string()
  .default("127.0.0.1:9092")
  .transform((list, context) => {
    const brokers = list
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== "");
    for (const broker of brokers) {
      if (!/^[^:\s]+:\d{1,5}$/.test(broker)) context.addIssue(`"${broker}" is not host:port`);
    }
    if (brokers.length === 0) context.addIssue("names no broker");
    return brokers;
  });

/** The environment of every role; each role reads only what it needs, and requires what it cannot do without. */
const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  HOST: z.string().min(1).default("0.0.0.0"),
  LOG_LEVEL: LogLevel.default("info"),
  /** The PostgreSQL server of the event store, the read models and identity. */
  DATABASE_URL: PostgresUrl.optional(),
  /** A schema of that database for this deployment's tables (created when missing); `public` unless told. */
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, "lower-case letters, digits and _")
    .optional(),
  DATABASE_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(200).default(10),
  /** Bootstrap brokers, comma-separated host:port. */
  KAFKA_BROKERS: BrokerList,
  /** Put before every topic and consumer group name: keeps deployments on one cluster apart. */
  KAFKA_TOPIC_PREFIX: z.string().default(""),
  /** Partitions of a context's topics when a role creates them. */
  KAFKA_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(12),
  /** How long a consumer group waits for a silent member (a crashed role) before moving its partitions. */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(300_000).default(10_000),
  /** The broker, presence and sign-in's attempt counters (source gateways, sink gateways, auth). */
  REDIS_URL: RedisUrl,
  /** Put before every Redis key and pub/sub channel. */
  REDIS_KEY_PREFIX: z.string().default("sluice:"),
  /** Names this gateway's replies topic; unique among running gateways. A fresh id per start unless told. */
  GATEWAY_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, "letters, digits, '.', '_' and '-'")
    .optional(),
  /**
   * Whether a source gateway serves identity's REST endpoints (`/auth`, the JWKS) too. "false" when
   * an auth role serves them (routed by path at the load balancer, so browsers see one origin).
   */
  SERVE_AUTH: z.stringbool().default(true),
  // TRUST_PROXY is read by the roles clients reach: source gateway, auth.
  ...edgeEnv,
  /**
   * How often a standby outbox relay or projector tries to take over, and how often the one
   * running checks that its lease's connection still answers (docs/scaling.md).
   */
  LEASE_RETRY_MS: z.coerce.number().int().min(100).max(60_000).default(1_000),
  /**
   * How long a source gateway's query waits at most for the projector to hold what committed
   * before it (read your writes) before it answers from the read models as they are.
   */
  READ_YOUR_WRITES_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(2_000),
  /** The built SPA a source gateway serves; apps/web/dist unless told (tests serve a build of their own). */
  WEB_DIST: z.string().min(1).optional(),
});

export interface RoleBase {
  readonly role: RoleName;
  readonly port: number;
  readonly host: string;
  readonly logLevel: z.infer<typeof LogLevel>;
  /** The proxies whose X-Forwarded-* headers are believed (TRUST_PROXY); set for the roles clients reach. */
  readonly trustProxy?: readonly string[] | undefined;
  /** Where log lines go instead of stdout. */
  readonly logStream?: { write(line: string): void } | undefined;
}

export interface PostgresConfig {
  readonly url: string;
  readonly schema?: string | undefined;
  readonly maxConnections?: number | undefined;
}

export interface KafkaConfig {
  readonly brokers: readonly string[];
  readonly topicPrefix: string;
  readonly partitions: number;
  readonly sessionTimeoutMs: number;
}

export interface RedisConfig {
  readonly url: string;
  readonly keyPrefix: string;
}

export interface SourceGatewayConfig extends RoleBase, EdgeConfig {
  readonly role: "source-gateway";
  readonly database: PostgresConfig;
  readonly kafka: KafkaConfig;
  readonly redis: RedisConfig;
  readonly gatewayId?: string | undefined;
  /** The built SPA; served when the folder exists. */
  readonly webDist?: string | undefined;
  /** Serves identity's REST endpoints (`/auth`, the JWKS) besides the sockets; true unless told. */
  readonly serveAuth: boolean;
  /** How long a query waits at most for the projector to catch up with what came before it (ms). */
  readonly readYourWritesWaitMs: number;
}

export interface SinkGatewayConfig extends RoleBase {
  readonly role: "sink-gateway";
  readonly kafka: KafkaConfig;
  readonly redis: RedisConfig;
}

export interface DomainServiceConfig extends RoleBase {
  readonly role: "domain-service";
  readonly database: PostgresConfig;
  readonly kafka: KafkaConfig;
  readonly personalDataKey?: Uint8Array | undefined;
  /** How often a standby relay tries to take the outbox's lease (ms). */
  readonly leaseRetryMs: number;
}

export interface ProjectorConfig extends RoleBase {
  readonly role: "projector";
  readonly database: PostgresConfig;
  readonly personalDataKey?: Uint8Array | undefined;
  /** How often a standby projector tries to take the projection's lease (ms). */
  readonly leaseRetryMs: number;
}

export interface AuthConfig extends RoleBase, IdentityConfig {
  readonly role: "auth";
  readonly database: PostgresConfig;
  /** Where sign-in's attempt counters live, shared with every other process serving `/auth`. */
  readonly redis: RedisConfig;
}

export type RoleConfig = SourceGatewayConfig | SinkGatewayConfig | DomainServiceConfig | ProjectorConfig | AuthConfig;

/** Parses the environment for `what`, or throws a ConfigError naming every bad or missing variable. */
function parseEnv(what: string, env: NodeJS.ProcessEnv, needsDatabase: boolean): z.infer<typeof EnvSchema> {
  const parsed = EnvSchema.safeParse(env);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
  if (parsed.success && needsDatabase && parsed.data.DATABASE_URL === undefined) {
    problems.push(`DATABASE_URL: required by the ${what}: postgres://user:password@host:port/database`);
  }
  if (!parsed.success || problems.length > 0) {
    throw new ConfigError(
      `invalid environment for the ${what}:\n${problems.map((problem) => `  ${problem}`).join("\n")}`,
    );
  }
  return parsed.data;
}

function databaseOf(data: z.infer<typeof EnvSchema>): PostgresConfig {
  return { url: data.DATABASE_URL ?? "", schema: data.DATABASE_SCHEMA, maxConnections: data.DATABASE_MAX_CONNECTIONS };
}

export interface SeedConfig {
  readonly database: PostgresConfig;
  readonly personalDataKey?: Uint8Array | undefined;
}

/** The demo seed's environment: the database only. */
export function loadSeedConfig(env: NodeJS.ProcessEnv = process.env): SeedConfig {
  const data = parseEnv("demo seed", env, true);
  return { database: databaseOf(data), personalDataKey: data.SLUICE_PERSONAL_DATA_KEY };
}

/** Reads and validates one role's environment, or throws a ConfigError naming every bad or missing variable. */
export function loadRoleConfig(role: string | undefined, env: NodeJS.ProcessEnv = process.env): RoleConfig {
  if (!roleNames.includes(role as RoleName)) {
    throw new ConfigError(`the role must be one of ${roleNames.join(", ")}; got ${JSON.stringify(role ?? "")}`);
  }
  const name = role as RoleName;
  const data = parseEnv(`${name}`, env, name !== "sink-gateway");
  const base = { port: data.PORT ?? defaultPorts[name], host: data.HOST, logLevel: data.LOG_LEVEL };
  const database = databaseOf(data);
  const kafka: KafkaConfig = {
    brokers: data.KAFKA_BROKERS,
    topicPrefix: data.KAFKA_TOPIC_PREFIX,
    partitions: data.KAFKA_PARTITIONS,
    sessionTimeoutMs: data.KAFKA_SESSION_TIMEOUT_MS,
  };
  const redis: RedisConfig = { url: data.REDIS_URL, keyPrefix: data.REDIS_KEY_PREFIX };
  switch (name) {
    case "source-gateway":
      return {
        role: name,
        ...base,
        database,
        kafka,
        redis,
        gatewayId: data.GATEWAY_ID,
        accessTokenTtlSeconds: data.ACCESS_TOKEN_TTL_SECONDS,
        jwtPrivateKeyPem: data.SLUICE_JWT_PRIVATE_KEY,
        allowedOrigins: data.ALLOWED_ORIGINS,
        trustProxy: data.TRUST_PROXY,
        sessionRecheckMs: data.SESSION_RECHECK_MS,
        serveAuth: data.SERVE_AUTH,
        readYourWritesWaitMs: data.READ_YOUR_WRITES_WAIT_MS,
        webDist: data.WEB_DIST,
      };
    case "sink-gateway":
      return { role: name, ...base, kafka, redis };
    case "domain-service":
      return {
        role: name,
        ...base,
        database,
        kafka,
        personalDataKey: data.SLUICE_PERSONAL_DATA_KEY,
        leaseRetryMs: data.LEASE_RETRY_MS,
      };
    case "projector":
      return {
        role: name,
        ...base,
        database,
        personalDataKey: data.SLUICE_PERSONAL_DATA_KEY,
        leaseRetryMs: data.LEASE_RETRY_MS,
      };
    case "auth":
      return {
        role: name,
        ...base,
        database,
        redis,
        accessTokenTtlSeconds: data.ACCESS_TOKEN_TTL_SECONDS,
        jwtPrivateKeyPem: data.SLUICE_JWT_PRIVATE_KEY,
        allowedOrigins: data.ALLOWED_ORIGINS,
        trustProxy: data.TRUST_PROXY,
      };
  }
}
