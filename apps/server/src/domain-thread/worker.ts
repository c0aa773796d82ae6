// The domain thread's entry (a worker thread of the embedded server): PGlite and everything that
// writes to it, so the main thread keeps the sockets. See `domain-thread.ts`.
import { workerData } from "node:worker_threads";
import { startOutbox } from "@sluice/bus";
import { serveThreadCommands, ThreadEventBus } from "@sluice/bus/thread";
import { openDatabase, serveDatabase } from "@sluice/database";
import { seedDemoDispatch } from "@sluice/dispatch";
import { createEventStore, startArchiving, startProjection, type Consumer } from "@sluice/event-store";
import { openDispatch } from "../dispatch-context";
import {
  replyTo,
  type DomainThreadData,
  type FromDomainThread,
  type StartDomain,
  type ToDomainThread,
} from "./messages";

const { dataDir, ports } = workerData as DomainThreadData;
const tell = (message: FromDomainThread) => ports.control.postMessage(message);

const db = await openDatabase({ kind: "pglite", dataDir });
// Identity, on the main thread, reaches the database through this port from here on.
const stopServingDatabase = serveDatabase(db, ports.database);
const stops: Array<() => Promise<void> | void> = [];

async function start({ personalDataKey, seed }: StartDomain): Promise<void> {
  const store = await createEventStore(db, { personalData: { masterKey: personalDataKey } });
  // Closed streams (completed routes) leave the hot table every minute (docs/event-store.md).
  const archiving = startArchiving(store, {
    intervalMs: 60_000,
    batchSize: 100,
    onError: (err) => tell({ kind: "log", level: "warn", message: "archiving failed", err }),
  });
  stops.push(() => archiving.stop());
  // Queries read their asker's writes: they wait for the read models to hold what committed
  // before them (at most the projection's lag; the wait cuts its linger short).
  const readModels: { projection?: Consumer } = {};
  const { dispatch, router } = await openDispatch(db, store, async () => readModels.projection?.caughtUp());
  // All read models in one consumer: one read, one transaction, one checkpoint per batch.
  // Under load, a read-model batch waits 20 ms for more (each holds PGlite, and the thread, a while).
  const projection = await startProjection(db, store, dispatch.readModels, { lingerMs: 20 });
  readModels.projection = projection;
  stops.push(() => projection.stop());
  const outbox = startOutbox(db, store, new ThreadEventBus(ports.events));
  stops.push(() => outbox.stop());
  const commands = serveThreadCommands(router, ports.commands);
  // Stops first: the calls in hand are answered and their events still reach the outbox.
  stops.push(() => commands.close());
  if (seed) await seedDemoDispatch({ store, ...seed });
  // Open with the read models and the channels current: what was in the log at start (the seed,
  // what arrived while the server was down) is projected and published before the first client.
  await Promise.all([projection.caughtUp(), outbox.caughtUp()]);
}

async function stop(): Promise<void> {
  for (const step of stops.splice(0).reverse()) await step();
}

async function close(): Promise<void> {
  await stop();
  stopServingDatabase();
  await db.close();
}

ports.control.on("message", (message: ToDomainThread) => {
  const done = message.kind === "start" ? start(message) : message.kind === "stop" ? stop() : close();
  done.then(
    () => tell({ kind: replyTo[message.kind] }),
    (error: unknown) => {
      const { name, message: text, stack } = error instanceof Error ? error : new Error(String(error));
      tell({ kind: "failed", name, message: text, stack });
    },
  );
});
tell({ kind: "opened" });
