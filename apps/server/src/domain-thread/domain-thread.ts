import { MessageChannel, Worker } from "node:worker_threads";
import type { CommandBus, EventBus } from "@sluice/bus";
import { ThreadCommandBus, ThreadEventBus } from "@sluice/bus/thread";
import { connectDatabase, type Database } from "@sluice/database";
import { PersonalDataConfigError } from "@sluice/event-store";
import type { FastifyBaseLogger } from "fastify";
import {
  replyTo,
  type DomainThreadData,
  type FromDomainThread,
  type StartDomain,
  type ToDomainThread,
} from "./messages";

/**
 * The embedded shape's write side in a worker thread: PGlite, the event store, Dispatch's command
 * handling and queries, its projections and the outbox. The main thread keeps the sockets, the
 * sink gateway and identity, and reaches this thread as the scale-out shape's gateways reach
 * their domain service: calls on a command bus, events on an event bus, each over a message port
 * instead of Kafka. PGlite runs SQL on the thread that calls it, so on one thread the sockets wait
 * while it works; here each has a core. Whole calls and event batches cross, never a statement
 * of a busy transaction: identity's few statements are the only SQL that crosses (decision 0008).
 */
export interface DomainThread {
  /** The thread's database, for identity on the main thread. */
  readonly db: Database;
  /** Dispatch's commands and queries, run in the thread. */
  readonly commandBus: CommandBus;
  /** What the thread's outbox publishes; the main thread's sink gateway subscribes. */
  readonly eventBus: EventBus;
  /** Starts the write side; resolves once read models and channels hold what the log held. */
  start(options: Omit<StartDomain, "kind">): Promise<void>;
  /** Answers the calls in hand, stops the projections and the outbox; the database stays open. */
  stop(): Promise<void>;
  /** Stops what still runs, closes the database and ends the thread. Safe to call twice. */
  close(): Promise<void>;
}

export async function openDomainThread(options: {
  readonly dataDir: string | undefined;
  readonly log: FastifyBaseLogger;
  /** Called when the thread ends without being closed (a crash): the process cannot serve on. */
  readonly onLost: (error: Error) => void;
}): Promise<DomainThread> {
  const control = new MessageChannel();
  const database = new MessageChannel();
  const commands = new MessageChannel();
  const events = new MessageChannel();
  const data: DomainThreadData = {
    dataDir: options.dataDir,
    ports: { control: control.port2, database: database.port2, commands: commands.port2, events: events.port2 },
  };
  const worker = new Worker(new URL("./worker-entry.mjs", import.meta.url), {
    workerData: data,
    transferList: Object.values(data.ports),
  });

  let exited = false;
  let stopping: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  const waiting = new Set<{ readonly kind: FromDomainThread["kind"]; settle(error?: Error): void }>();
  /** Resolves on the thread's next message of `kind`, rejects on a failure or the thread's end. */
  const next = (kind: FromDomainThread["kind"]) =>
    new Promise<void>((resolve, reject) => {
      if (exited) return reject(new Error("the domain thread has ended"));
      waiting.add({ kind, settle: (error) => (error ? reject(error) : resolve()) });
    });
  const settleAll = (error?: Error, kind?: FromDomainThread["kind"]) => {
    for (const waiter of waiting) {
      if (error || waiter.kind === kind) {
        waiting.delete(waiter);
        waiter.settle(error);
      }
    }
  };
  control.port1.on("message", (message: FromDomainThread) => {
    switch (message.kind) {
      case "log":
        options.log[message.level]({ err: message.err }, message.message);
        return;
      case "failed": {
        const error =
          message.name === "PersonalDataConfigError"
            ? new PersonalDataConfigError(message.message)
            : Object.assign(new Error(message.message), { name: message.name, stack: message.stack });
        settleAll(error);
        return;
      }
      default:
        settleAll(undefined, message.kind);
    }
  });
  worker.on("error", (error) => {
    options.log.error({ err: error }, "the domain thread failed");
    settleAll(error);
  });
  worker.on("exit", (code) => {
    exited = true;
    const error = new Error(`the domain thread ended (exit code ${code})`);
    settleAll(error);
    if (!closing) options.onLost(error);
  });

  /** Asks the thread to do `message` and resolves once it says it has. */
  const ask = (message: ToDomainThread) => {
    const done = next(replyTo[message.kind]);
    control.port1.postMessage(message);
    return done;
  };
  await next("opened");

  const commandBus = new ThreadCommandBus(commands.port1);
  const eventBus = new ThreadEventBus(events.port1);
  const db = connectDatabase(database.port1, "pglite");

  return {
    db,
    commandBus,
    eventBus,
    start(startOptions) {
      return ask({ kind: "start", ...startOptions });
    },
    stop() {
      stopping ??= exited ? Promise.resolve() : ask({ kind: "stop" });
      return stopping;
    },
    close() {
      closing ??= (async () => {
        await commandBus.close();
        await db.close();
        if (!exited) {
          await ask({ kind: "close" }).catch((error: unknown) =>
            options.log.error({ err: error }, "the domain thread did not stop"),
          );
        }
        await eventBus.close();
        control.port1.close();
        await worker.terminate();
      })();
      return closing;
    },
  };
}
