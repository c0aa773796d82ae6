import type { HashCost, SignInLimits } from "@sluice/identity";
import { parseOrigin } from "@sluice/identity/origin";
import { parseMasterKey } from "@sluice/event-store";
import type { GatewayLimits } from "@sluice/source-gateway";
import { isIP } from "node:net";
import { z } from "zod";

export const LogLevel = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

/** A comma-separated list of origins, each normalized (`https://app.example.com`). */
export const OriginList = z
  .string()
  .default("")
  .transform((list, context) => {
    const origins: string[] = [];
    for (const entry of list.split(",").map((item) => item.trim())) {
      if (entry === "") continue;
      const parsed = parseOrigin(entry);
      if (parsed) origins.push(parsed.origin);
      else context.addIssue(`"${entry}" is not an origin like https://app.example.com (scheme, host, port; no path)`);
    }
    return origins;
  });

/** Ranges @fastify/proxy-addr knows by name (RFC 1122 / 3927 / 1918 and their IPv6 counterparts). */
const namedRanges = new Set(["loopback", "linklocal", "uniquelocal"]);

/** Why `entry` is not an address, a CIDR range or a named range; undefined when it is one. */
function proxyEntryProblem(entry: string): string | undefined {
  if (namedRanges.has(entry)) return undefined;
  const shape = "an IP address, a CIDR range (10.0.0.0/8) or loopback, linklocal, uniquelocal";
  if (/^\d+$/.test(entry)) {
    return (
      `"${entry}" is a hop count, which is not accepted: it cannot tell a proxy from a client that reaches ` +
      `the server directly (Fastify ignores one for that reason); list the proxies' addresses or ranges instead`
    );
  }
  if (entry === "true" || entry === "*") {
    return `"${entry}" would trust every client to name its own address; list the proxies' addresses or ranges`;
  }
  const [address = "", prefix, ...rest] = entry.split("/");
  const version = address.includes("%") ? 0 : isIP(address);
  if (version === 0 || rest.length > 0) return `"${entry}" is not ${shape}`;
  if (prefix === undefined) return undefined;
  const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
  const most = version === 4 ? 32 : 128;
  if (!(bits <= most)) return `"${entry}": the prefix length must be a whole number from 1 to ${most}`;
  if (bits === 0) return `"${entry}" covers every address: it would trust every client to name its own address`;
  return undefined;
}

/**
 * The proxies whose X-Forwarded-For, -Proto and -Host are believed: a comma-separated list of
 * addresses and CIDR ranges (`10.0.0.0/8,127.0.0.1`), or loopback, linklocal, uniquelocal. Empty:
 * none, the socket's own address and scheme are the client's (a server exposed directly).
 */
export const TrustProxy = z
  .string()
  .default("")
  .transform((list, context) => {
    const entries: string[] = [];
    for (const entry of list.split(",").map((item) => item.trim())) {
      if (entry === "") continue;
      const problem = proxyEntryProblem(entry);
      if (problem === undefined) entries.push(entry);
      else context.addIssue(problem);
    }
    return entries;
  });

/** Fastify's `trustProxy` for a validated TRUST_PROXY: false (no header believed) when it lists nobody. */
export function trustProxyOption(trusted: readonly string[] | undefined): string[] | false {
  return trusted !== undefined && trusted.length > 0 ? [...trusted] : false;
}

/** The personal-data master key (decision 0009), 32 bytes in base64; absent when not set. */
export const MasterKey = z
  .string()
  .min(1)
  .optional()
  .transform((text, context) => {
    if (text === undefined) return undefined;
    try {
      return parseMasterKey(text);
    } catch (error) {
      context.addIssue((error as Error).message);
      return z.NEVER;
    }
  });

/**
 * The variables of identity and the WebSocket edge, and of the personal-data key: one rule each,
 * for `npm start` and for the scale-out roles that have them (roles/config.ts).
 */
export const edgeEnv = {
  /**
   * How long an access token lasts. Short: browsers refresh it (rotating refresh token) and the
   * socket re-authenticates in band before it expires, so a stolen one is useful briefly.
   */
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
  /** PEM of the access-token signing key; without it keys are generated, kept in the database and rotated. */
  SLUICE_JWT_PRIVATE_KEY: z.string().min(1).optional(),
  /**
   * The master key personal data's keys are wrapped with (decision 0009): 32 bytes in base64
   * (`openssl rand -base64 32`). Without it one is generated on first start and kept in the
   * database; once a database has one, only that key opens it.
   */
  SLUICE_PERSONAL_DATA_KEY: MasterKey,
  /**
   * Browser origins besides the server's own that may open the WebSocket and call /auth
   * (a front end served from another host). Comma-separated; empty means same origin only.
   */
  ALLOWED_ORIGINS: OriginList,
  /**
   * The reverse proxies in front of the server (see TrustProxy): only a request whose socket comes
   * from one of them has its X-Forwarded-For (the client's address, which sign-in throttling and
   * the logs use) and X-Forwarded-Proto (https: cookies are Secure) believed. Unset: none.
   */
  TRUST_PROXY: TrustProxy,
  /**
   * How often the WebSocket edge reads again the sessions of its open sockets and closes those no
   * longer live: a second line behind identity's revocation log, which already tells the edge of
   * every revocation, this process's at once and other processes' within a second. Unset: never.
   * A round over 10,000 open sessions is 20 queries: on PostgreSQL about 0.25 s wall and 35 ms of
   * the node's CPU; on PGlite about a second, 0.2 s of it CPU on the event loop.
   */
  SESSION_RECHECK_MS: z.coerce.number().int().min(250).max(600_000).optional(),
};

/** The environment the server reads, validated once at start. */
const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default("0.0.0.0"),
  /** PGlite's data directory. */
  DATA_DIR: z.string().min(1).default(".data"),
  LOG_LEVEL: LogLevel.default("info"),
  ...edgeEnv,
});

export interface ServerConfig {
  readonly port: number;
  readonly host: string;
  /** PGlite's data directory; undefined keeps the database in memory (tests). */
  readonly dataDir: string | undefined;
  readonly logLevel: z.infer<typeof LogLevel>;
  readonly accessTokenTtlSeconds?: number | undefined;
  readonly jwtPrivateKeyPem?: string | undefined;
  /** The personal data master key; undefined: the database's own, generated on first start. */
  readonly personalDataKey?: Uint8Array | undefined;
  /** Browser origins besides the server's own, normalized. */
  readonly allowedOrigins?: readonly string[] | undefined;
  /** The proxies whose X-Forwarded-* headers are believed (TRUST_PROXY); none when empty or undefined. */
  readonly trustProxy?: readonly string[] | undefined;
  /** Undefined: no periodic re-check of open sockets' sessions (see SESSION_RECHECK_MS). */
  readonly sessionRecheckMs?: number | undefined;
  /** The built SPA; served with a fallback to index.html when the folder exists. */
  readonly webDist?: string | undefined;
  /** Seed the demo organizations, users and a project on first start. Default true. */
  readonly seedDemo?: boolean | undefined;
  /** Test knobs forwarded to the parts they belong to. */
  readonly hashCost?: HashCost | undefined;
  readonly gatewayLimits?: Partial<GatewayLimits> | undefined;
  readonly signInLimits?: SignInLimits | undefined;
  /** Identity's grace for a refresh token presented again right after its rotation (0 in tests of reuse). */
  readonly refreshReuseGraceSeconds?: number | undefined;
  /**
   * False: the edge is not told of revocations at all (tests of the periodic re-check, which
   * alone closes sockets then). Default true.
   */
  readonly hearRevocations?: boolean | undefined;
  /** Where log lines go instead of stdout (tests read them to prove what is not logged). */
  readonly logStream?: { write(line: string): void } | undefined;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Reads and validates the environment, or throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`).join("\n");
    throw new ConfigError(`invalid environment:\n${problems}`);
  }
  const {
    PORT,
    HOST,
    DATA_DIR,
    LOG_LEVEL,
    ACCESS_TOKEN_TTL_SECONDS,
    SLUICE_JWT_PRIVATE_KEY,
    SLUICE_PERSONAL_DATA_KEY,
    ALLOWED_ORIGINS,
    TRUST_PROXY,
    SESSION_RECHECK_MS,
  } = parsed.data;
  return {
    port: PORT,
    host: HOST,
    dataDir: DATA_DIR,
    logLevel: LOG_LEVEL,
    accessTokenTtlSeconds: ACCESS_TOKEN_TTL_SECONDS,
    jwtPrivateKeyPem: SLUICE_JWT_PRIVATE_KEY,
    personalDataKey: SLUICE_PERSONAL_DATA_KEY,
    allowedOrigins: ALLOWED_ORIGINS,
    trustProxy: TRUST_PROXY,
    sessionRecheckMs: SESSION_RECHECK_MS,
  };
}
