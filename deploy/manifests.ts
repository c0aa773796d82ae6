// Reads deploy/'s compose file, Dockerfile, nginx.conf and Kubernetes manifests and checks them
// against the code: every role deployed, every container's environment accepted by the role's own
// validation (apps/server/src/roles/config.ts), ports, probes and drain times as the roles serve
// them, and each request path routed to a role that serves it and trusts the proxy (TRUST_PROXY).
// Each check answers a list of problems, empty when the files agree with the code
// (deploy/deploy.test.ts).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { DRAIN_TIMEOUT_MS } from "@sluice/source-gateway";
import {
  loadRoleConfig,
  loadSeedConfig,
  roleNames,
  type RoleConfig,
  type SeedConfig,
} from "../apps/server/src/roles/config";

export const repoRoot = new URL("..", import.meta.url).pathname;
export const deployDir = join(repoRoot, "deploy");

/** The one-off jobs `roles/main.ts` runs besides the roles (it exits when done). */
export const jobNames = ["seed"] as const;

/** What the roles serve besides their own routes (apps/server/src/operations.ts). */
export const probePaths = { liveness: "/healthz", readiness: "/readyz" } as const;

type Env = Record<string, string>;

/** A role's or the seed's configuration as its own loader reads it, or why it refused. */
export type Loaded =
  | { readonly ok: true; readonly kind: "role"; readonly config: RoleConfig }
  | { readonly ok: true; readonly kind: "seed"; readonly config: SeedConfig }
  | { readonly ok: false; readonly message: string };

/** Runs the validation `roles/main.ts` runs at start for `name` (a role, or `seed`) on `env`. */
export function loadFor(name: string, env: Env): Loaded {
  try {
    if (name === "seed") return { ok: true, kind: "seed", config: loadSeedConfig(env) };
    return { ok: true, kind: "role", config: loadRoleConfig(name, env) };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}

// --- what a role serves -------------------------------------------------------------------------

/**
 * Requests a browser makes, whose routing the checks follow through nginx.conf and the Ingress:
 * the app and its socket reach a source gateway; identity's REST reaches a process that serves it.
 */
export const routedPaths = ["/", "/ws", "/auth/signin", "/.well-known/jwks.json"] as const;

const isIdentityPath = (path: string) => path.startsWith("/auth/") || path.startsWith("/.well-known/");

/**
 * Whether a role configured so answers `path`: identity's REST in the auth role and in source
 * gateways that serve it (SERVE_AUTH, on unless told), the app and its socket in source gateways.
 */
export function serves(config: RoleConfig, path: string): boolean {
  if (isIdentityPath(path)) return config.role === "auth" || (config.role === "source-gateway" && config.serveAuth);
  return config.role === "source-gateway";
}

const described = (config: RoleConfig) =>
  config.role === "source-gateway" && !config.serveAuth ? "a source-gateway with SERVE_AUTH=false" : `a ${config.role}`;

/**
 * A role the load balancer or the ingress sends browsers' requests to (the routes followed below),
 * where TLS ends, must trust it: without TRUST_PROXY every client would have the proxy's address
 * (one sign-in lockout for all) and cookies would lose Secure.
 */
/** The forwarded headers an edge proxy sets to what it saw, replacing a client's (nginx's variables). */
export const edgeForwarded = {
  "X-Forwarded-For": "$remote_addr",
  "X-Forwarded-Proto": "$scheme",
  "X-Forwarded-Host": "$http_host",
} as const;

function trustProblem(where: string, config: RoleConfig, proxy: string): string[] {
  if ((config.trustProxy ?? []).length > 0) return [];
  return [`${where}: TRUST_PROXY is empty, so behind ${proxy} every client has the proxy's address`];
}

// --- what a loaded configuration connects to ---------------------------------------------------

interface Endpoints {
  readonly database?: { readonly url: string; readonly schema: string | undefined };
  /** The personal-data master key, for the roles that open personal data: one for all, or none. */
  readonly personalDataKey?: string;
  /**
   * The access tokens' signing key, for the roles that sign (auth, gateways serving /auth) or
   * verify them (source gateways): one SLUICE_JWT_PRIVATE_KEY for all, or none (the keys in the
   * database, decision 0006).
   */
  readonly signingKey?: string;
  /** What else identity reads: the origins it admits and how long a token (and a retired key) lives. */
  readonly identity?: { readonly allowedOrigins: readonly string[]; readonly accessTokenTtlSeconds: number };
  readonly kafka?: { readonly brokers: readonly string[]; readonly topicPrefix: string; readonly partitions: number };
  readonly redis?: { readonly url: string; readonly keyPrefix: string };
}

const keptInDatabase = "(kept in the database)";

function endpointsOf(loaded: Loaded): Endpoints {
  if (!loaded.ok) return {};
  const config = loaded.config as Partial<
    Record<
      | "database"
      | "kafka"
      | "redis"
      | "personalDataKey"
      | "jwtPrivateKeyPem"
      | "allowedOrigins"
      | "accessTokenTtlSeconds",
      unknown
    >
  >;
  const database = config.database as { url: string; schema?: string } | undefined;
  const reads = (key: string) => Object.prototype.hasOwnProperty.call(config, key);
  return {
    ...(database && { database: { url: database.url, schema: database.schema } }),
    ...(reads("personalDataKey") && {
      personalDataKey:
        config.personalDataKey === undefined
          ? keptInDatabase
          : Buffer.from(config.personalDataKey as Uint8Array).toString("base64"),
    }),
    ...(reads("jwtPrivateKeyPem") && {
      signingKey: config.jwtPrivateKeyPem === undefined ? keptInDatabase : String(config.jwtPrivateKeyPem).trim(),
      identity: {
        allowedOrigins: [...((config.allowedOrigins as readonly string[] | undefined) ?? [])].sort(),
        accessTokenTtlSeconds: Number(config.accessTokenTtlSeconds),
      },
    }),
    ...(config.kafka !== undefined && { kafka: config.kafka as Endpoints["kafka"] & object }),
    ...(config.redis !== undefined && { redis: config.redis as Endpoints["redis"] & object }),
  };
}

/**
 * Roles that share a dependency must agree on it: one database and schema, one cluster and prefix,
 * one master key, one way of signing tokens (or the auth role's tokens would not open a socket).
 */
function sharedDependencyProblems(where: string, loaded: ReadonlyMap<string, Loaded>): string[] {
  const problems: string[] = [];
  for (const dependency of ["database", "personalDataKey", "signingKey", "identity", "kafka", "redis"] as const) {
    const seen = new Map<string, string[]>();
    for (const [name, config] of loaded) {
      const endpoint = endpointsOf(config)[dependency];
      if (endpoint === undefined) continue;
      const key = JSON.stringify(endpoint);
      seen.set(key, [...(seen.get(key) ?? []), name]);
    }
    if (seen.size > 1) {
      // Secrets are named, never shown.
      const secret = dependency === "personalDataKey" || dependency === "signingKey";
      let keys = 0;
      const shown = (key: string) =>
        !secret ? key : key === JSON.stringify(keptInDatabase) ? "not set" : keys++ === 0 ? "a key" : "another key";
      const variants = [...seen].map(([key, names]) => `${names.join(", ")}: ${shown(key)}`).join("; ");
      problems.push(`${where}: the roles disagree on ${dependency}: ${variants}`);
    }
  }
  return problems;
}

function hostsOf(endpoints: Endpoints): { dependency: string; host: string; port: number }[] {
  const hosts: { dependency: string; host: string; port: number }[] = [];
  if (endpoints.database) {
    const url = new URL(endpoints.database.url);
    hosts.push({ dependency: "database", host: url.hostname, port: Number(url.port || 5432) });
  }
  for (const broker of endpoints.kafka?.brokers ?? []) {
    const [host = "", port = ""] = broker.split(":");
    hosts.push({ dependency: "kafka", host, port: Number(port) });
  }
  if (endpoints.redis) {
    const url = new URL(endpoints.redis.url);
    hosts.push({ dependency: "redis", host: url.hostname, port: Number(url.port || 6379) });
  }
  return hosts;
}

const isLoopback = (host: string) =>
  host === "localhost" || host.startsWith("127.") || host === "[::1]" || host === "::1";

// --- the Dockerfile and its build context ------------------------------------------------------

/** The final stage's ENTRYPOINT, CMD, USER and WORKDIR. */
export function readDockerfile(path = join(repoRoot, "Dockerfile")) {
  const lines = readFileSync(path, "utf8")
    .replace(/\\\n/g, " ")
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"));
  const stages: string[][] = [];
  for (const line of lines) {
    if (/^FROM\s/i.test(line)) stages.push([]);
    stages.at(-1)?.push(line);
  }
  const last = stages.at(-1) ?? [];
  const instruction = (name: string) =>
    last
      .filter((line) => new RegExp(`^${name}\\s`, "i").test(line))
      .map((line) => line.replace(new RegExp(`^${name}\\s+`, "i"), "").trim())
      .at(-1);
  const exec = (value: string | undefined) => (value?.startsWith("[") ? (JSON.parse(value) as string[]) : undefined);
  return {
    entrypoint: exec(instruction("ENTRYPOINT")),
    cmd: exec(instruction("CMD")),
    user: instruction("USER"),
    workdir: instruction("WORKDIR"),
  };
}

/** Whether `.dockerignore` leaves `path` (relative to the repository) out of the build context. */
export function dockerIgnores(path: string, patterns: readonly string[]): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith("!");
    const pattern = (negated ? raw.slice(1) : raw).replace(/\/$/, "");
    const regex = new RegExp(
      "^" +
        pattern
          .split("/")
          .map((part) => (part === "**" ? ".*" : part.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")))
          .join("/")
          .replace(/\.\*\//g, "(?:.*/)?") +
        "(?:/.*)?$",
    );
    if (regex.test(path)) ignored = !negated;
  }
  return ignored;
}

export function dockerProblems(): string[] {
  const problems: string[] = [];
  const { entrypoint, cmd, user, workdir } = readDockerfile();
  const main = entrypoint?.at(-1);
  if (!entrypoint || entrypoint[0] !== "node" || main !== "apps/server/src/roles/main.ts") {
    problems.push(`Dockerfile: ENTRYPOINT must run roles/main.ts with node; it is ${JSON.stringify(entrypoint)}`);
  } else if (!entrypoint.includes("tsx")) {
    problems.push("Dockerfile: ENTRYPOINT must load tsx (--import tsx): the roles are TypeScript");
  }
  if (!cmd || cmd.length !== 1 || !(roleNames as readonly string[]).includes(cmd[0] ?? "")) {
    problems.push(`Dockerfile: CMD must name one role; it is ${JSON.stringify(cmd)}`);
  }
  if (user === undefined || ["root", "0"].includes(user.split(":")[0] ?? "")) {
    problems.push(`Dockerfile: the final stage must run as a user other than root; USER is ${user}`);
  }
  if (workdir === undefined) problems.push("Dockerfile: the final stage names no WORKDIR");
  const patterns = readFileSync(join(repoRoot, ".dockerignore"), "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  // What the image runs and builds from must reach it.
  for (const needed of [
    "package.json",
    "package-lock.json",
    "apps/server/src/roles/main.ts",
    "apps/server/package.json",
    "apps/web/index.html",
    "packages/source-gateway/src/index.ts",
    "deploy/readyz.mjs",
  ]) {
    if (!existsSync(join(repoRoot, needed))) problems.push(`${needed} does not exist`);
    else if (dockerIgnores(needed, patterns)) problems.push(`.dockerignore leaves ${needed} out of the image`);
  }
  for (const unwanted of ["node_modules/tsx/package.json", ".git/HEAD", "apps/web/dist/index.html"]) {
    if (!dockerIgnores(unwanted, patterns)) problems.push(`.dockerignore lets the host's ${unwanted} into the image`);
  }
  return problems;
}

// --- compose -------------------------------------------------------------------------------

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | { target?: number; published?: string | number })[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: string }>;
  volumes?: (string | { source?: string; target?: string })[];
  stop_grace_period?: string;
}

/** A compose duration (`30s`, `1m30s`, `500ms`) in seconds; compose's default grace is 10 s. */
export function composeSeconds(duration: string | undefined): number {
  if (duration === undefined) return 10;
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 1e-6 };
  let seconds = 0;
  for (const [, amount, unit] of duration.matchAll(/([0-9.]+)(h|ms|m|s|us)/g)) {
    seconds += Number(amount) * (units[unit ?? ""] ?? NaN);
  }
  return seconds;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
}

export function readCompose(path = join(deployDir, "compose.yaml")): ComposeFile {
  return parse(readFileSync(path, "utf8"), { merge: true }) as ComposeFile;
}

function composeEnv(service: ComposeService): { env: Env; unset: string[] } {
  const env: Env = {};
  const unset: string[] = [];
  const entries = Array.isArray(service.environment)
    ? service.environment.map((item) => {
        const at = item.indexOf("=");
        return at < 0 ? ([item, null] as const) : ([item.slice(0, at), item.slice(at + 1)] as const);
      })
    : Object.entries(service.environment ?? {});
  for (const [name, value] of entries) {
    // A bare name takes the host's value: the file alone would not say what the role gets.
    if (value === null) unset.push(name);
    else env[name] = String(value);
  }
  return { env, unset };
}

/** The container's side of a compose `ports` entry. */
const containerPortOf = (mapping: NonNullable<ComposeService["ports"]>[number]) =>
  typeof mapping === "string" ? Number(mapping.split(":").at(-1)?.split("/")[0]) : Number(mapping.target);

const commandOf = (command: string | string[] | undefined) =>
  command === undefined ? undefined : Array.isArray(command) ? command : command.split(/\s+/);

// --- nginx.conf --------------------------------------------------------------------------------

/** One directive of an nginx configuration: `name args...;` or `name args... { block }`. */
export interface NginxDirective {
  readonly name: string;
  readonly args: readonly string[];
  readonly block?: readonly NginxDirective[];
}

/** nginx's configuration syntax: directives, blocks, quotes and comments (no includes). */
export function parseNginx(text: string): NginxDirective[] {
  const tokens = [...text.matchAll(/#[^\n]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[{};]|[^\s{};"'#]+/g)]
    .map((match) => match[0])
    .filter((token) => !token.startsWith("#"));
  let at = 0;
  const block = (): NginxDirective[] => {
    const directives: NginxDirective[] = [];
    let words: string[] = [];
    while (at < tokens.length) {
      const token = tokens[at++]!;
      if (token === "}") break;
      if (token === ";" || token === "{") {
        const [name = "", ...args] = words;
        directives.push(token === "{" ? { name, args, block: block() } : { name, args });
        words = [];
      } else words.push(/^["']/.test(token) ? token.slice(1, -1) : token);
    }
    return directives;
  };
  return block();
}

function nginxAll(directives: readonly NginxDirective[], name: string): NginxDirective[] {
  return directives.flatMap((directive) => [
    ...(directive.name === name ? [directive] : []),
    ...nginxAll(directive.block ?? [], name),
  ]);
}

/** Names in the load balancer's `upstream source_gateways { server host:port; ... }`. */
export function nginxUpstreams(text: string, upstream = "source_gateways"): string[] {
  return nginxAll(parseNginx(text), "upstream")
    .filter((directive) => directive.args[0] === upstream)
    .flatMap((directive) => (directive.block ?? []).filter((inner) => inner.name === "server"))
    .map((server) => server.args[0] ?? "");
}

/** The headers a block's `proxy_set_header`s set (names in lower case), or undefined when it sets none. */
function nginxProxyHeaders(block: readonly NginxDirective[] | undefined): Record<string, string> | undefined {
  const set = (block ?? []).filter((directive) => directive.name === "proxy_set_header");
  if (set.length === 0) return undefined;
  return Object.fromEntries(set.map((directive) => [(directive.args[0] ?? "").toLowerCase(), directive.args[1] ?? ""]));
}

/**
 * Each virtual server's ports, where it sends `path` (the `host:port`s of the upstream or address
 * its location's proxy_pass names, or none) and the headers it sets on the way: a block's
 * `proxy_set_header`s replace all of the enclosing block's, so a location has its own, its
 * server's or http's. Locations are chosen as nginx does, an exact (`=`) match first, then the
 * longest prefix; regular-expression locations are not followed.
 */
export function nginxRoutes(text: string): {
  ports: number[];
  targets: (path: string) => string[];
  headers: (path: string) => Record<string, string>;
}[] {
  const directives = parseNginx(text);
  const upstreams = new Set(nginxAll(directives, "upstream").map((directive) => directive.args[0]));
  const httpHeaders = nginxProxyHeaders(nginxAll(directives, "http")[0]?.block);
  return nginxAll(directives, "server")
    .filter((server) => server.block !== undefined)
    .map((server) => {
      const block = server.block ?? [];
      const ports = block
        .filter((directive) => directive.name === "listen")
        .map((listen) => Number(/(\d+)$/.exec(listen.args[0] ?? "")?.[1] ?? 80));
      const locations = block
        .filter((directive) => directive.name === "location")
        .map((location) => {
          const [first = "", second] = location.args;
          const proxyPass = location.block?.find((inner) => inner.name === "proxy_pass")?.args[0];
          const headers = nginxProxyHeaders(location.block);
          return second === undefined
            ? { modifier: "", path: first, proxyPass, headers }
            : { modifier: first, path: second, proxyPass, headers };
        });
      const serverHeaders = nginxProxyHeaders(block);
      const locationFor = (path: string) =>
        locations.find((l) => l.modifier === "=" && l.path === path) ??
        locations
          .filter((l) => (l.modifier === "" || l.modifier === "^~") && path.startsWith(l.path))
          .sort((a, b) => b.path.length - a.path.length)[0];
      const targets = (path: string): string[] => {
        const url = /^https?:\/\/([^/:]+)(?::(\d+))?/.exec(locationFor(path)?.proxyPass ?? "");
        if (!url) return [];
        const [, host = "", port] = url;
        return upstreams.has(host) ? nginxUpstreams(text, host) : [`${host}:${port ?? 80}`];
      };
      const headers = (path: string) => locationFor(path)?.headers ?? serverHeaders ?? httpHeaders ?? {};
      return { ports, targets, headers };
    });
}

export function composeProblems(
  compose: ComposeFile,
  options: { roles?: readonly string[]; nginxConf?: string } = {},
): string[] {
  const roles = options.roles ?? roleNames;
  const problems: string[] = [];
  const services = compose.services ?? {};
  const sluiceImages = new Set(
    Object.values(services)
      .filter((service) => service.build !== undefined)
      .map((service) => service.image),
  );
  const loaded = new Map<string, Loaded>();
  const roleOf = new Map<string, string>();

  for (const [name, service] of Object.entries(services)) {
    const isSluice = service.build !== undefined || (service.image !== undefined && sluiceImages.has(service.image));
    if (!isSluice) continue;
    if (service.build !== undefined) {
      const build = typeof service.build === "string" ? { context: service.build } : service.build;
      const dockerfile = join(deployDir, build.context ?? ".", build.dockerfile ?? "Dockerfile");
      if (!existsSync(dockerfile)) problems.push(`compose ${name}: builds from ${dockerfile}, which does not exist`);
      else if (relative(repoRoot, dockerfile) !== "Dockerfile") {
        problems.push(
          `compose ${name}: builds from ${relative(repoRoot, dockerfile)}, not the repository's Dockerfile`,
        );
      }
    }
    const args = commandOf(service.command);
    const role = args?.[0];
    if (args === undefined || args.length !== 1 || role === undefined) {
      problems.push(`compose ${name}: command must be one role or job name, e.g. ["sink-gateway"]`);
      continue;
    }
    if (!roles.includes(role) && !(jobNames as readonly string[]).includes(role)) {
      problems.push(`compose ${name}: runs "${role}", which roles/main.ts does not start`);
      continue;
    }
    roleOf.set(name, role);
    const { env, unset } = composeEnv(service);
    for (const variable of unset) problems.push(`compose ${name}: ${variable} takes its value from the host`);
    const config = loadFor(role, env);
    loaded.set(name, config);
    if (!config.ok) {
      problems.push(`compose ${name}: ${config.message}`);
      continue;
    }

    // What it connects to is a service of this file, on the port that service listens on.
    for (const { dependency, host, port } of hostsOf(endpointsOf(config))) {
      const target = services[host];
      if (target === undefined) {
        problems.push(`compose ${name}: its ${dependency} is ${host}:${port}, not a service of this file`);
        continue;
      }
      const targetEnv = composeEnv(target).env;
      const listens =
        dependency === "kafka"
          ? (targetEnv.KAFKA_LISTENERS ?? "").split(",").some((listener) => listener.endsWith(`:${port}`))
          : port === (dependency === "database" ? 5432 : 6379);
      if (!listens)
        problems.push(`compose ${name}: its ${dependency} is ${host}:${port}; ${host} does not listen there`);
      if (dependency === "kafka" && !(targetEnv.KAFKA_ADVERTISED_LISTENERS ?? "").includes(`//${host}:${port}`)) {
        problems.push(`compose ${name}: ${host} does not advertise ${host}:${port}, which the role bootstraps from`);
      }
      if (dependency === "database") {
        const url = new URL(endpointsOf(config).database?.url ?? "");
        const expected = {
          user: targetEnv.POSTGRES_USER ?? "postgres",
          password: targetEnv.POSTGRES_PASSWORD,
          database: targetEnv.POSTGRES_DB ?? targetEnv.POSTGRES_USER ?? "postgres",
        };
        const actual = { user: url.username, password: url.password, database: url.pathname.slice(1) };
        if (JSON.stringify(actual) !== JSON.stringify(expected)) {
          problems.push(`compose ${name}: DATABASE_URL's user, password or database is not the ${host} service's`);
        }
      }
    }

    if (config.kind === "role") {
      const port = config.config.port;
      const test = service.healthcheck?.test;
      const expected = ["CMD", "node", "deploy/readyz.mjs", String(port)];
      if (JSON.stringify(test) !== JSON.stringify(expected)) {
        problems.push(`compose ${name}: healthcheck must be ${JSON.stringify(expected)} (/readyz on ${port})`);
      }
      const grace = composeSeconds(service.stop_grace_period);
      if (role === "source-gateway" && grace < DRAIN_TIMEOUT_MS / 1000 + 10) {
        problems.push(
          `compose ${name}: stop_grace_period ${grace} s < drain ${DRAIN_TIMEOUT_MS / 1000} s + 10 s to close`,
        );
      }
      for (const mapping of service.ports ?? []) {
        const target = containerPortOf(mapping);
        if (target !== port)
          problems.push(`compose ${name}: publishes container port ${target}; the role listens on ${port}`);
      }
    }
  }

  // Every role runs; the seed runs, and before every role.
  for (const role of [...roles, ...jobNames]) {
    if (![...roleOf.values()].includes(role)) problems.push(`compose: no service runs the ${role} role`);
  }
  const seeds = [...roleOf].filter(([, role]) => role === "seed").map(([name]) => name);
  const dependsOn = (name: string): Record<string, string | undefined> => {
    const depends = services[name]?.depends_on ?? {};
    return Array.isArray(depends)
      ? Object.fromEntries(depends.map((dependency) => [dependency, "service_started"]))
      : Object.fromEntries(Object.entries(depends).map(([dependency, { condition }]) => [dependency, condition]));
  };
  const afterSeed = (name: string, seen: Set<string>): boolean =>
    Object.entries(dependsOn(name)).some(([dependency, condition]) => {
      if (seeds.includes(dependency)) return condition === "service_completed_successfully";
      if (seen.has(dependency)) return false;
      seen.add(dependency);
      return afterSeed(dependency, seen);
    });
  for (const [name, role] of roleOf) {
    if (role !== "seed" && seeds.length > 0 && !afterSeed(name, new Set())) {
      problems.push(`compose ${name}: does not wait for the seed to complete (depends_on)`);
    }
  }
  problems.push(...sharedDependencyProblems("compose", loaded));

  // The load balancer sends to every source gateway, on the port it listens on.
  if (options.nginxConf !== undefined) {
    const expected = [...roleOf]
      .filter(([, role]) => role === "source-gateway")
      .map(([name]) => {
        const config = loaded.get(name);
        return `${name}:${config?.ok && config.kind === "role" ? config.config.port : "?"}`;
      })
      .sort();
    const actual = nginxUpstreams(options.nginxConf).sort();
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      problems.push(
        `nginx.conf: upstream source_gateways is ${actual.join(", ")}; the gateways are ${expected.join(", ")}`,
      );
    }

    // Every path a browser asks for reaches a role that serves it, on the port it listens on:
    // with the gateways' SERVE_AUTH=false, /auth must reach the auth role.
    const routes = nginxRoutes(options.nginxConf);
    const proxied = new Map<string, RoleConfig>();
    for (const { ports, targets, headers } of routes) {
      const on = `nginx.conf: on ${ports.join(", ")}`;
      for (const path of routedPaths) {
        const reached = targets(path);
        if (reached.length === 0) problems.push(`${on}, ${path} reaches no role`);
        // nginx is the edge: what the roles trust it for is what it saw, never a client's own.
        for (const [header, value] of Object.entries(edgeForwarded)) {
          const set = headers(path)[header.toLowerCase()];
          if (reached.length > 0 && set !== value) {
            problems.push(`${on}, ${path}: ${header} is ${set ?? "not set"}; at the edge it must be ${value}`);
          }
        }
        for (const target of reached) {
          const [host = "", port = ""] = target.split(":");
          const config = loaded.get(host);
          if (config?.ok === false) continue; // its environment's problem is reported above
          if (config?.kind !== "role") problems.push(`${on}, ${path} goes to ${target}, not a role of this file`);
          else if (config.config.port !== Number(port)) {
            problems.push(`${on}, ${path} goes to ${target}; ${host} listens on ${config.config.port}`);
          } else if (!serves(config.config, path)) {
            problems.push(`${on}, ${path} goes to ${target}, ${described(config.config)}, which does not serve it`);
          } else proxied.set(host, config.config);
        }
      }
    }
    // What nginx sends browsers to trusts it.
    for (const [name, config] of proxied) problems.push(...trustProblem(`compose ${name}`, config, "nginx.conf"));
    // The load balancer publishes the ports nginx listens on.
    const listens = new Set(routes.flatMap((route) => route.ports));
    for (const [name, service] of Object.entries(services)) {
      const mounts = (service.volumes ?? []).map((volume) =>
        typeof volume === "string" ? (volume.split(":")[0] ?? "") : (volume.source ?? ""),
      );
      if (!mounts.some((source) => source.endsWith("nginx.conf"))) continue;
      for (const mapping of service.ports ?? []) {
        const target = containerPortOf(mapping);
        if (!listens.has(target)) {
          problems.push(`compose ${name}: publishes container port ${target}, on which nginx.conf does not listen`);
        }
      }
    }
  }
  return problems;
}

// --- Kubernetes ------------------------------------------------------------------------------

interface HttpProbe {
  httpGet?: { path?: string; port?: string | number };
}

interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: {
      configMapKeyRef?: { name: string; key: string; optional?: boolean };
      secretKeyRef?: { name: string; key: string; optional?: boolean };
      fieldRef?: { fieldPath: string };
    };
  }[];
  envFrom?: { configMapRef?: { name: string; optional?: boolean }; secretRef?: { name: string; optional?: boolean } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readinessProbe?: HttpProbe;
  livenessProbe?: HttpProbe;
  startupProbe?: HttpProbe;
  lifecycle?: { preStop?: { exec?: { command?: string[] }; sleep?: { seconds: number } } };
}

interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec: { containers: Container[]; terminationGracePeriodSeconds?: number };
}

interface IngressBackend {
  service: { name: string; port: { name?: string; number?: number } };
}

interface IngressPath {
  path?: string;
  pathType?: string;
  backend: IngressBackend;
}

/**
 * The backend an Ingress rule's paths send `request` to, as the Ingress API defines it: the
 * longest matching path, Exact before Prefix; Prefix (and ImplementationSpecific, read as Prefix)
 * matches whole path elements.
 */
export function ingressBackend(paths: readonly IngressPath[], request: string): IngressBackend | undefined {
  const elements = (path: string) => path.split("/").filter((element) => element !== "");
  const matching = paths.filter((candidate) => {
    const path = candidate.path ?? "/";
    if (candidate.pathType === "Exact") return path === request;
    const got = elements(request);
    return elements(path).every((element, index) => got[index] === element);
  });
  const score = (candidate: IngressPath) =>
    (candidate.path ?? "/").replace(/\/+$/, "").length * 2 + (candidate.pathType === "Exact" ? 1 : 0);
  return matching.sort((a, b) => score(b) - score(a))[0]?.backend;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    template?: PodTemplate;
    ports?: { name?: string; port: number; targetPort?: string | number }[];
    scaleTargetRef?: { kind: string; name: string };
    minReplicas?: number;
    maxReplicas?: number;
    rules?: { host?: string; http?: { paths: IngressPath[] } }[];
    defaultBackend?: IngressBackend;
  };
}

export interface Kustomized {
  readonly objects: K8sObject[];
  readonly images: { name: string; newName?: string; newTag?: string }[];
  readonly problems: string[];
}

/** The objects a kustomization puts together (its resources, files and folders), without applying it. */
export function readKustomization(dir: string): Kustomized {
  const file = join(dir, "kustomization.yaml");
  const kustomization = parse(readFileSync(file, "utf8")) as {
    resources?: string[];
    images?: Kustomized["images"];
  };
  const objects: K8sObject[] = [];
  const problems: string[] = [];
  const images = [...(kustomization.images ?? [])];
  const listed = new Set<string>();
  for (const resource of kustomization.resources ?? []) {
    const path = join(dir, resource);
    if (!existsSync(path)) {
      problems.push(`${relative(repoRoot, file)}: resource ${resource} does not exist`);
      continue;
    }
    listed.add(relative(dir, path));
    if (statSync(path).isDirectory()) {
      const inner = readKustomization(path);
      objects.push(...inner.objects);
      images.push(...inner.images);
      problems.push(...inner.problems);
    } else {
      for (const document of parseAllDocuments(readFileSync(path, "utf8"))) {
        if (document.errors.length > 0) problems.push(`${resource}: ${document.errors[0]?.message}`);
        const object = document.toJS() as K8sObject | null;
        if (object) objects.push(object);
      }
    }
  }
  // A manifest beside the kustomization that it does not list is never applied.
  for (const entry of readdirSync(dir)) {
    if (/\.ya?ml$/.test(entry) && entry !== "kustomization.yaml" && !listed.has(entry)) {
      problems.push(`${relative(repoRoot, join(dir, entry))} is not among its kustomization's resources`);
    }
  }
  return { objects, images, problems };
}

const find = (objects: readonly K8sObject[], kind: string, name: string) =>
  objects.find((object) => object.kind === kind && object.metadata.name === name);

/** A container's environment as the kubelet would give it, from the objects at hand. */
function containerEnv(container: Container, objects: readonly K8sObject[], where: string) {
  const env: Env = {};
  const problems: string[] = [];
  const valuesOf = (kind: "ConfigMap" | "Secret", name: string): Env | undefined => {
    const object = find(objects, kind, name);
    if (!object) return undefined;
    const decoded = Object.fromEntries(
      Object.entries(object.data ?? {}).map(([key, value]) => [
        key,
        kind === "Secret" ? Buffer.from(value, "base64").toString("utf8") : String(value),
      ]),
    );
    return {
      ...decoded,
      ...Object.fromEntries(Object.entries(object.stringData ?? {}).map(([k, v]) => [k, String(v)])),
    };
  };
  for (const source of container.envFrom ?? []) {
    const [kind, reference] = source.configMapRef
      ? (["ConfigMap", source.configMapRef] as const)
      : (["Secret", source.secretRef] as const);
    if (!reference) continue;
    const values = valuesOf(kind, reference.name);
    if (values) Object.assign(env, values);
    else if (!reference.optional) problems.push(`${where}: envFrom names ${kind} ${reference.name}, which is not here`);
  }
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    if (variable.value !== undefined) env[variable.name] = String(variable.value);
    else if (from?.fieldRef) env[variable.name] = `sample-${from.fieldRef.fieldPath.replace(/\W+/g, "-")}`;
    else if (from?.configMapKeyRef || from?.secretKeyRef) {
      const [kind, reference] = from.configMapKeyRef
        ? (["ConfigMap", from.configMapKeyRef] as const)
        : (["Secret", from.secretKeyRef!] as const);
      const value = valuesOf(kind, reference.name)?.[reference.key];
      if (value !== undefined) env[variable.name] = value;
      else if (!reference.optional) {
        problems.push(
          `${where}: ${variable.name} comes from ${kind} ${reference.name} key ${reference.key}, which is not here`,
        );
      }
    } else env[variable.name] = "";
  }
  return { env, problems };
}

/** Kubernetes quantities: cpu in cores, memory in bytes. */
export function quantity(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^([0-9.]+)(m|Ki|Mi|Gi|Ti|k|M|G)?$/.exec(String(value));
  if (!match) return undefined;
  const scale: Record<string, number> = {
    m: 1e-3,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    k: 1e3,
    M: 1e6,
    G: 1e9,
  };
  return Number(match[1]) * (match[2] ? (scale[match[2]] ?? NaN) : 1);
}

const selects = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  selector !== undefined &&
  Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([key, value]) => labels?.[key] === value);

function probeProblems(where: string, container: Container, port: number): string[] {
  const problems: string[] = [];
  const named = new Map((container.ports ?? []).map((p) => [p.name, p.containerPort]));
  const expected = {
    readinessProbe: probePaths.readiness,
    livenessProbe: probePaths.liveness,
    startupProbe: probePaths.liveness,
  } as const;
  for (const [probe, path] of Object.entries(expected) as [keyof typeof expected, string][]) {
    const get = container[probe]?.httpGet;
    if (probe !== "startupProbe" && get === undefined) {
      problems.push(`${where}: no ${probe} (httpGet ${path})`);
      continue;
    }
    if (get === undefined) continue;
    const probePort = typeof get.port === "string" ? named.get(get.port) : get.port;
    if (get.path !== path) problems.push(`${where}: ${probe} asks ${get.path}; the role answers it on ${path}`);
    if (probePort !== port) problems.push(`${where}: ${probe} asks port ${get.port}; the role listens on ${port}`);
  }
  return problems;
}

export function kubernetesProblems(
  kustomized: Kustomized,
  options: { roles?: readonly string[]; jobs?: readonly string[] } = {},
): string[] {
  const roles = options.roles ?? roleNames;
  const jobs = options.jobs ?? [];
  const { objects } = kustomized;
  const problems = [...kustomized.problems];
  const loaded = new Map<string, Loaded>();
  const deployments = objects.filter((object) => object.kind === "Deployment");
  const workloads = objects.filter((object) => object.kind === "Deployment" || object.kind === "Job");
  const byRole = new Map<string, K8sObject[]>();
  /** Each Deployment's container, as problems name it. */
  const containerOf = new Map<string, string>();

  const sluiceImages = new Set(
    kustomized.images.filter((image) => image.name === "sluice").map((image) => `${image.newName}:${image.newTag}`),
  );
  if (!kustomized.images.some((image) => image.name === "sluice" && image.newName !== undefined)) {
    problems.push("kustomization: no images entry says where the sluice image comes from");
  } else if (sluiceImages.size > 1) {
    problems.push(`kustomization: the kustomizations name different sluice images: ${[...sluiceImages].join(", ")}`);
  }
  for (const workload of workloads) {
    const where = `${workload.kind} ${workload.metadata.name}`;
    const template = workload.spec?.template;
    if (!template) {
      problems.push(`${where}: no pod template`);
      continue;
    }
    if (!selects(workload.spec?.selector?.matchLabels, template.metadata?.labels) && workload.kind === "Deployment") {
      problems.push(`${where}: its selector does not select its own pods`);
    }
    for (const container of template.spec.containers) {
      const at = `${where} container ${container.name}`;
      if (container.image !== "sluice") problems.push(`${at}: image ${container.image}, not the sluice image`);
      if (container.command !== undefined)
        problems.push(`${at}: command replaces the image's ENTRYPOINT (roles/main.ts)`);
      const role = container.args?.[0];
      const known = workload.kind === "Job" ? jobNames : roles;
      if (container.args?.length !== 1 || role === undefined || !(known as readonly string[]).includes(role)) {
        problems.push(`${at}: args must be one ${workload.kind === "Job" ? "job" : "role"} (${known.join(", ")})`);
        continue;
      }
      byRole.set(role, [...(byRole.get(role) ?? []), workload]);
      const { env, problems: envProblems } = containerEnv(container, objects, at);
      problems.push(...envProblems);
      const config = loadFor(role, env);
      loaded.set(`${where}`, config);
      containerOf.set(`${where}`, at);
      if (!config.ok) {
        problems.push(`${at}: ${config.message}`);
        continue;
      }
      for (const { dependency, host } of hostsOf(endpointsOf(config))) {
        if (isLoopback(host)) problems.push(`${at}: its ${dependency} is ${host}, inside its own pod`);
      }

      const requests = container.resources?.requests ?? {};
      const memoryLimit = quantity(container.resources?.limits?.memory);
      if (quantity(requests.cpu) === undefined || quantity(requests.memory) === undefined) {
        problems.push(`${at}: requests no cpu or memory`);
      }
      if (memoryLimit === undefined) problems.push(`${at}: no memory limit`);
      const heap = /--max-old-space-size=(\d+)/.exec(env.NODE_OPTIONS ?? "")?.[1];
      if (heap !== undefined && memoryLimit !== undefined && Number(heap) * 2 ** 20 >= memoryLimit) {
        problems.push(`${at}: a heap of ${heap} MiB does not fit its memory limit`);
      }

      if (config.kind !== "role") continue;
      const port = config.config.port;
      const http = container.ports?.find((p) => p.name === "http");
      if (http?.containerPort !== port) {
        problems.push(`${at}: port "http" is ${http?.containerPort}; the role listens on ${port}`);
      }
      problems.push(...probeProblems(at, container, port));

      if (role === "source-gateway") {
        // The drain fits the grace period: preStop, then every socket told to go and cut after
        // DRAIN_TIMEOUT_MS, then the buses and the database closed (10 s to spare for those).
        const preStop = container.lifecycle?.preStop;
        const sleep =
          preStop?.sleep?.seconds ??
          Number(/^sleep$/.test(preStop?.exec?.command?.[0] ?? "") ? preStop?.exec?.command?.[1] : NaN);
        const grace = template.spec.terminationGracePeriodSeconds ?? 30;
        if (!Number.isFinite(sleep) || sleep < 5) {
          problems.push(`${at}: preStop must wait (sleep ≥ 5 s) while the endpoints stop sending new sockets`);
        } else if (grace < sleep + DRAIN_TIMEOUT_MS / 1000 + 10) {
          problems.push(
            `${where}: terminationGracePeriodSeconds ${grace} < preStop ${sleep} s + drain ${DRAIN_TIMEOUT_MS / 1000} s + 10 s to close`,
          );
        }
        if (container.readinessProbe?.httpGet === undefined) problems.push(`${at}: no readiness on /readyz`);
      }
    }
  }
  for (const role of roles) {
    const found = (byRole.get(role) ?? []).filter((workload) => workload.kind === "Deployment");
    if (found.length !== 1) problems.push(`kubernetes: ${found.length} Deployments run the ${role} role; want 1`);
  }
  for (const job of jobs) {
    if (!(byRole.get(job) ?? []).some((workload) => workload.kind === "Job")) {
      problems.push(`kubernetes: no Job runs ${job}`);
    }
  }
  problems.push(...sharedDependencyProblems("kubernetes", loaded));

  // Services reach the pods of one Deployment, on a port its container names.
  const servicesOf = new Map<K8sObject, K8sObject[]>();
  for (const service of objects.filter((object) => object.kind === "Service")) {
    const where = `Service ${service.metadata.name}`;
    const targets = deployments.filter((deployment) =>
      selects(
        service.spec?.selector as Record<string, string> | undefined,
        deployment.spec?.template?.metadata?.labels,
      ),
    );
    if (targets.length !== 1) {
      problems.push(`${where}: selects the pods of ${targets.length} Deployments; want 1`);
      continue;
    }
    const target = targets[0]!;
    servicesOf.set(target, [...(servicesOf.get(target) ?? []), service]);
    const containerPorts = target.spec?.template?.spec.containers.flatMap((container) => container.ports ?? []) ?? [];
    for (const port of service.spec?.ports ?? []) {
      const targetPort = port.targetPort ?? port.port;
      const found = containerPorts.some((p) =>
        typeof targetPort === "string" ? p.name === targetPort : p.containerPort === targetPort,
      );
      if (!found) problems.push(`${where}: targetPort ${targetPort} is no port of ${target.metadata.name}`);
    }
  }
  for (const deployment of deployments) {
    if (!servicesOf.has(deployment))
      problems.push(`Deployment ${deployment.metadata.name}: no Service (metrics, probes)`);
  }

  // Every path a browser asks for reaches, through the ingress, pods that serve it: with the
  // gateways' SERVE_AUTH=false, /auth must reach the auth role.
  const deploymentOf = new Map(
    [...servicesOf].flatMap(([deployment, services]) => services.map((service) => [service, deployment] as const)),
  );
  const proxied = new Map<string, RoleConfig>();
  for (const ingress of objects.filter((object) => object.kind === "Ingress")) {
    for (const rule of ingress.spec?.rules ?? []) {
      const on = `Ingress ${ingress.metadata.name}${rule.host === undefined ? "" : ` (${rule.host})`}`;
      for (const path of routedPaths) {
        const backend = ingressBackend(rule.http?.paths ?? [], path) ?? ingress.spec?.defaultBackend;
        if (backend === undefined) {
          problems.push(`${on}: sends ${path} nowhere`);
          continue;
        }
        const service = find(objects, "Service", backend.service.name);
        const deployment = service && deploymentOf.get(service);
        if (!service || !deployment) {
          problems.push(`${on}: sends ${path} to Service ${backend.service.name}, which reaches no Deployment here`);
          continue;
        }
        const { name: portName, number } = backend.service.port;
        const hasPort = (service.spec?.ports ?? []).some((port) =>
          portName !== undefined ? port.name === portName : port.port === number,
        );
        if (!hasPort) {
          problems.push(
            `${on}: sends ${path} to port ${portName ?? number} of Service ${service.metadata.name}, which it does not have`,
          );
        }
        const config = loaded.get(`Deployment ${deployment.metadata.name}`);
        if (config?.ok && config.kind === "role") {
          if (!serves(config.config, path)) {
            problems.push(
              `${on}: sends ${path} to Service ${service.metadata.name}, whose pods are ${described(config.config)}, which does not serve it`,
            );
          } else proxied.set(`Deployment ${deployment.metadata.name}`, config.config);
        }
      }
    }
  }
  // What the ingress sends browsers to trusts it.
  for (const [where, config] of proxied) {
    problems.push(...trustProblem(containerOf.get(where) ?? where, config, "the ingress"));
  }

  // The source gateways: behind the ingress, kept available, scaled by the autoscaler.
  const gateways = (byRole.get("source-gateway") ?? []).filter((workload) => workload.kind === "Deployment");
  for (const gateway of gateways) {
    const name = gateway.metadata.name;
    const podLabels = gateway.spec?.template?.metadata?.labels;
    const budget = objects.find(
      (object) => object.kind === "PodDisruptionBudget" && selects(object.spec?.selector?.matchLabels, podLabels),
    );
    if (!budget) problems.push(`Deployment ${name}: no PodDisruptionBudget`);
    const autoscaler = objects.find(
      (object) =>
        object.kind === "HorizontalPodAutoscaler" &&
        object.spec?.scaleTargetRef?.kind === "Deployment" &&
        object.spec.scaleTargetRef.name === name,
    );
    if (!autoscaler) problems.push(`Deployment ${name}: no HorizontalPodAutoscaler`);
    else {
      if (gateway.spec?.replicas !== undefined) {
        problems.push(`Deployment ${name}: sets replicas, which every apply would reset under the autoscaler`);
      }
      if ((autoscaler.spec?.minReplicas ?? 1) < 2)
        problems.push(`HorizontalPodAutoscaler: fewer than 2 source gateways`);
    }
    const gatewayServices = new Set((servicesOf.get(gateway) ?? []).map((service) => service.metadata.name));
    const routed = objects
      .filter((object) => object.kind === "Ingress")
      .flatMap((ingress) => ingress.spec?.rules ?? [])
      .flatMap((rule) => rule.http?.paths ?? [])
      .some((path) => gatewayServices.has(path.backend.service.name));
    if (!routed) problems.push(`Deployment ${name}: no Ingress routes to its Service`);
  }
  return problems;
}
