import type { MessagePort } from "node:worker_threads";
import type { Database, Queryable } from "../database";
import type { Lease } from "../lease";
import { serializeError, type DatabaseRequest, type DatabaseResponse } from "./messages";

/** A transaction held open on the serving side while its steps arrive from the other end. */
interface OpenTransaction {
  readonly tx: Queryable;
  /** Settles the transaction's body: commit on resolve, rollback on reject. */
  readonly end: (commit: boolean) => void;
  /** The transaction's outcome once it ended. */
  readonly ended: Promise<void>;
}

/**
 * Serves `db` on a message port, for `connectDatabase` at the other end (another thread). Each
 * statement runs as it arrives; the database's own rules apply (on PGlite, one at a time and
 * nothing else while a transaction is open). Returns a function that stops serving.
 */
export function serveDatabase(db: Database, port: MessagePort): () => void {
  const transactions = new Map<number, OpenTransaction>();
  let nextTx = 1;
  const leases = new Map<number, Lease>();
  let nextLease = 1;
  const listening = new Map<number, () => Promise<void>>();
  let nextListening = 1;
  const reply = (response: DatabaseResponse) => port.postMessage(response);

  async function begin(): Promise<number> {
    const id = nextTx++;
    return new Promise<number>((started, failed) => {
      let end!: (commit: boolean) => void;
      const decided = new Promise<boolean>((resolve) => (end = resolve));
      const ended = db
        .transaction(async (tx) => {
          transactions.set(id, { tx, end, ended });
          started(id);
          if (!(await decided)) throw rolledBack;
        })
        .catch((error: unknown) => {
          if (error !== rolledBack) throw error;
        })
        .finally(() => transactions.delete(id));
      // A transaction that could not begin fails its `begin`.
      ended.catch(failed);
    });
  }

  async function run(request: DatabaseRequest): Promise<DatabaseResponse> {
    switch (request.op) {
      case "begin":
        return { id: request.id, tx: await begin() };
      case "commit":
      case "rollback": {
        const open = transactions.get(request.tx);
        if (!open) throw new Error(`transaction ${request.tx} is not open`);
        open.end(request.op === "commit");
        await open.ended;
        return { id: request.id };
      }
      case "lease": {
        const lease = await db.tryLease(request.name, request.options);
        if (!lease) return { id: request.id };
        const id = nextLease++;
        leases.set(id, lease);
        lease.lost.addEventListener("abort", () => {
          if (!leases.delete(id)) return;
          const reason = lease.lost.reason instanceof Error ? lease.lost.reason.message : "the lease was lost";
          reply({ id: 0, lost: id, reason });
        });
        return { id: request.id, lease: id };
      }
      case "release": {
        const lease = leases.get(request.lease);
        leases.delete(request.lease);
        await lease?.release();
        return { id: request.id };
      }
      case "listen": {
        const id = nextListening++;
        listening.set(id, await db.listen(request.channel, (payload) => reply({ id: 0, notified: id, payload })));
        return { id: request.id, listening: id };
      }
      case "unlisten": {
        const stop = listening.get(request.listening);
        listening.delete(request.listening);
        await stop?.();
        return { id: request.id };
      }
      case "notify":
        await db.notify(request.channel, request.payload);
        return { id: request.id };
      case "query":
      case "exec": {
        const target = request.tx === undefined ? db : transactions.get(request.tx)?.tx;
        if (!target) throw new Error(`transaction ${request.tx} is not open`);
        if (request.op === "exec") {
          await target.exec(request.sql);
          return { id: request.id };
        }
        const options = request.name === undefined ? undefined : { name: request.name };
        return { id: request.id, rows: (await target.query(request.sql, request.params, options)).rows };
      }
    }
  }

  const onMessage = (request: DatabaseRequest) => {
    run(request).then(reply, (error: unknown) => reply({ id: request.id, error: serializeError(error) }));
  };
  const stop = () => {
    port.off("message", onMessage);
    // The other end is gone or done: what it left open cannot be committed, nor its leases kept.
    for (const open of transactions.values()) open.end(false);
    for (const lease of leases.values()) void lease.release();
    leases.clear();
    for (const stopListening of listening.values()) void stopListening();
    listening.clear();
  };
  port.on("message", onMessage);
  port.once("close", stop);
  return stop;
}

const rolledBack = new Error("rolled back by the other end");
