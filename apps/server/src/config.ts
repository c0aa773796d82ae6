import type { HashCost } from "@sluice/identity";
import type { GatewayLimits } from "@sluice/source-gateway";
import { z } from "zod";

const LogLevel = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

/** The environment the server reads, validated once at start. */
const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default("0.0.0.0"),
  /** PGlite's data directory. */
  DATA_DIR: z.string().min(1).default(".data"),
  LOG_LEVEL: LogLevel.default("info"),
});

export interface ServerConfig {
  readonly port: number;
  readonly host: string;
  /** PGlite's data directory; undefined keeps the database in memory (tests). */
  readonly dataDir: string | undefined;
  readonly logLevel: z.infer<typeof LogLevel>;
  /** The built SPA; served with a fallback to index.html when the folder exists. */
  readonly webDist?: string | undefined;
  /** Seed the demo organizations, users and a project on first start. Default true. */
  readonly seedDemo?: boolean | undefined;
  /** Test knobs forwarded to the parts they belong to. */
  readonly hashCost?: HashCost | undefined;
  readonly gatewayLimits?: Partial<GatewayLimits> | undefined;
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
  const { PORT, HOST, DATA_DIR, LOG_LEVEL } = parsed.data;
  return { port: PORT, host: HOST, dataDir: DATA_DIR, logLevel: LOG_LEVEL };
}
