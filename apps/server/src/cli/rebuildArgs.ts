// The rebuild command's options, validated once: a clear message for anything that cannot work.
import { parseArgs } from "node:util";
import type { DatabaseConfig } from "@sluice/database";
import { z } from "zod";

export const usage = `usage: npm run rebuild -- <projection> [--database postgres://user:password@host:port/db | --data-dir <dir>]
                      [--page-size <events>] [--max-page-ms <ms>] [--resume] | --list

Rebuilds a projection from the start of the log beside the live one, then swaps it in.
  --database   a PostgreSQL server (the server keeps running meanwhile)
  --data-dir   an embedded (PGlite) data directory; stop the server that uses it first.
               Default: $DATA_DIR, else .data (the server's default)
  --page-size  events per read and transaction, at most (default 5000)
  --max-page-ms  pages shrink to keep each transaction about this short (default 50): the live
               projection's readers wait for a page's writes. Raise it when nothing else runs.
  --resume     continue an interrupted rebuild instead of starting from zero (same code only)
  --list       the projections there are`;

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export interface RebuildArgs {
  /** Undefined with --list. */
  readonly projection: string | undefined;
  readonly database: DatabaseConfig;
  readonly pageSize: number;
  readonly maxPageMs: number;
  readonly resume: boolean;
  readonly list: boolean;
}

const Options = z
  .object({
    database: z
      .string()
      .refine((url) => URL.canParse(url) && ["postgres:", "postgresql:"].includes(new URL(url).protocol), {
        message: "--database must be a URL like postgres://user:password@host:5432/database",
      })
      .optional(),
    "data-dir": z.string().min(1, "--data-dir must name a directory").optional(),
    "page-size": z.coerce
      .number({ message: "--page-size must be a number" })
      .int("--page-size must be a whole number")
      .min(1, "--page-size must be at least 1")
      .max(100_000, "--page-size must be at most 100000")
      .default(5_000),
    "max-page-ms": z.coerce
      .number({ message: "--max-page-ms must be a number" })
      .positive("--max-page-ms must be more than 0")
      .max(3_600_000, "--max-page-ms must be at most an hour")
      .default(50),
    resume: z.boolean().default(false),
    list: z.boolean().default(false),
  })
  .refine((options) => !(options.database && options["data-dir"]), {
    message: "give --database or --data-dir, not both",
  });

/** Parses argv (after the script name); throws UsageError with the reason. */
export function parseRebuildArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): RebuildArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        database: { type: "string" },
        "data-dir": { type: "string" },
        "page-size": { type: "string" },
        "max-page-ms": { type: "string" },
        resume: { type: "boolean" },
        list: { type: "boolean" },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const options = Options.safeParse(parsed.values);
  if (!options.success) throw new UsageError(options.error.issues.map((issue) => issue.message).join("; "));
  const { positionals } = parsed;
  const list = options.data.list;
  if (positionals.length > 1) throw new UsageError(`one projection at a time; got ${positionals.join(", ")}`);
  if (!list && positionals.length === 0) throw new UsageError("name the projection to rebuild (--list shows them)");
  const database: DatabaseConfig = options.data.database
    ? { kind: "postgres", url: options.data.database, maxConnections: 4 }
    : { kind: "pglite", dataDir: options.data["data-dir"] ?? (env.DATA_DIR || ".data") };
  return {
    projection: positionals[0],
    database,
    pageSize: options.data["page-size"],
    maxPageMs: options.data["max-page-ms"],
    resume: options.data.resume,
    list,
  };
}
