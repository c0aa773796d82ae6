import { openDatabase, type Database } from "@sluice/database";
import type { KafkaBusOptions } from "@sluice/bus/kafka";
import Fastify, { type FastifyInstance } from "fastify";
import { Registry, collectDefaultMetrics } from "prom-client";
import { Cleanups } from "../cleanups";
import { trustProxyOption } from "../config";
import { listen } from "../listen";
import { registerOperations } from "../operations";
import type { KafkaConfig, PostgresConfig, RoleBase, RoleName } from "./config";

export interface RunningRole {
  readonly role: RoleName;
  /** Where it listens: the app and `/ws` for a source gateway, operations endpoints for every role. */
  readonly url: string;
  readonly port: number;
  /** Stops taking work, finishes what is in hand and closes its connections. Safe to call twice. */
  close(): Promise<void>;
}

export interface RoleParts {
  readonly app: FastifyInstance;
  readonly metrics: Registry;
  /** Undone in reverse order on close, or when the start fails. */
  readonly cleanups: Cleanups;
}

/** Shown with /readyz. */
export type RoleDetail = () => Record<string, unknown>;

/**
 * The frame every role runs in: one HTTP server with /healthz, /readyz and /metrics (and whatever
 * the role adds), its parts started by `compose` and undone in reverse on close. Ready once
 * composed and listening; not ready from the moment close begins.
 */
export async function startRole(
  config: RoleBase,
  compose: (parts: RoleParts) => Promise<RoleDetail | void>,
): Promise<RunningRole> {
  const app = Fastify({
    logger: {
      level: config.logLevel,
      base: { role: config.role },
      ...(config.logStream && { stream: config.logStream }),
    },
    forceCloseConnections: true,
    trustProxy: trustProxyOption(config.trustProxy),
  });
  const cleanups = new Cleanups(app.log);
  const metrics = new Registry();
  metrics.setDefaultLabels({ role: config.role });
  collectDefaultMetrics({ register: metrics });
  let ready = false;
  try {
    const detail = await compose({ app, metrics, cleanups });
    registerOperations(app, metrics, { ready: () => ready, ...(detail && { detail }) });
    const { url, port } = await listen(app, config.host, config.port);
    ready = true;
    let closing: Promise<void> | undefined;
    return {
      role: config.role,
      url,
      port,
      close() {
        ready = false;
        closing ??= cleanups.run();
        return closing;
      },
    };
  } catch (error) {
    await cleanups.run();
    await app.close().catch(() => undefined);
    throw error;
  }
}

/** The deployment's PostgreSQL server, closed with the role. */
export async function openPostgres(config: PostgresConfig, cleanups: Cleanups): Promise<Database> {
  const db = await openDatabase({
    kind: "postgres",
    url: config.url,
    schema: config.schema,
    maxConnections: config.maxConnections,
  });
  cleanups.push(() => db.close());
  return db;
}

/** The bounded contexts the scale-out shape carries on Kafka. */
export const contexts = ["dispatch"];

/** Where a role's Kafka buses find their topics; the client id names the role in the broker's logs. */
export function kafkaBusOptions(config: KafkaConfig, role: RoleName): KafkaBusOptions {
  return {
    connection: { brokers: config.brokers, clientId: `sluice-${role}`, sessionTimeoutMs: config.sessionTimeoutMs },
    contexts,
    topicPrefix: config.topicPrefix,
    partitions: config.partitions,
  };
}
