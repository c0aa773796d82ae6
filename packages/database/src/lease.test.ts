import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, connect, type Server, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import type { Database } from "./database";
import { openDatabase } from "./index";
import type { Lease } from "./lease";
import { leaseHolderPids, pgliteOverAPort, postgresTestUrl, terminateLeaseHolders, testBackends } from "./testing";

/** Resolves once `condition` holds; fails naming `what` after timeoutMs. */
async function eventually(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const lostReason = (lease: Lease) => once(lease.lost, "abort").then(() => lease.lost.reason as Error);

const backends = await testBackends();

for (const backend of [...backends, pgliteOverAPort]) {
  describe(`leases on ${backend.name}`, { skip: backend.skip }, () => {
    let db: Database;
    before(async () => {
      db = await backend.open();
    });
    after(() => db?.close());

    test("one holder at a time per name; released, the name can be taken again", async () => {
      const first = await db.tryLease("relay");
      assert.ok(first, "a free lease is taken");
      assert.equal(await db.tryLease("relay"), undefined, "a held lease is not taken twice");
      const other = await db.tryLease("projector");
      assert.ok(other, "another name is another lease");
      await first.release();
      await first.release();
      const second = await db.tryLease("relay");
      assert.ok(second, "taken again once released");
      assert.equal(first.lost.aborted, false, "releasing is not losing");
      await second.release();
      await other.release();
    });

    test("closing the database loses the leases it holds", async () => {
      const own = await backend.open();
      const lease = (await own.tryLease("relay"))!;
      const lost = lostReason(lease);
      await own.close();
      assert.match((await lost).message, /closed/);
    });
  });
}

const postgres = backends.find((backend) => backend.name === "postgres")!;

describe("leases on a PostgreSQL server", { skip: postgres.skip }, () => {
  let db: Database;
  /** A second process's view of the same schema: its own pool and its own lease connections. */
  let other: Database;
  let schema: string;
  before(async () => {
    db = await postgres.open();
    schema = (await db.query<{ name: string }>("select current_schema() as name")).rows[0]!.name;
    other = await openDatabase({ kind: "postgres", url: postgresTestUrl, schema, maxConnections: 2 });
  });
  after(async () => {
    await other?.close();
    await db?.close();
  });

  test("another process on the same schema waits for the holder; another schema does not", async () => {
    const held = (await db.tryLease("relay"))!;
    assert.equal(await other.tryLease("relay"), undefined);
    assert.equal((await leaseHolderPids(db, "relay")).length, 1, "one session holds it");
    const elsewhere = await postgres.open();
    try {
      const there = await elsewhere.tryLease("relay");
      assert.ok(there, "the same name in another schema is another lease");
      await there.release();
    } finally {
      await elsewhere.close();
    }
    await held.release();
    const taken = await other.tryLease("relay");
    assert.ok(taken, "released: the other process takes it at once");
    await taken.release();
  });

  test("a holder whose session is ended loses the lease at once, and another takes it", async () => {
    const held = (await db.tryLease("relay"))!;
    const lost = lostReason(held);
    assert.equal(await terminateLeaseHolders(db, "relay"), 1);
    assert.match((await lost).message, /terminating connection/);
    let taken: Lease | undefined;
    await eventually(
      "the other process takes the lease",
      async () => (taken = await other.tryLease("relay")) !== undefined,
    );
    await taken!.release();
    await held.release();
  });

  test("a holder killed with SIGKILL gives the lease up", async () => {
    const holder = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--input-type=module",
        "--eval",
        `import { openDatabase } from "@sluice/database";
         const db = await openDatabase({ kind: "postgres", url: process.env.URL, schema: process.env.SCHEMA });
         console.log((await db.tryLease("relay")) ? "held" : "refused");
         setInterval(() => {}, 60_000);`,
      ],
      { env: { ...process.env, URL: postgresTestUrl, SCHEMA: schema }, stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = once(holder, "exit");
    try {
      const [line] = (await once(holder.stdout!, "data")) as [Buffer];
      assert.equal(line.toString().trim(), "held");
      assert.equal(await db.tryLease("relay"), undefined, "held by the child");
      holder.kill("SIGKILL");
      await exited;
      let taken: Lease | undefined;
      await eventually("the lease is free again", async () => (taken = await db.tryLease("relay")) !== undefined);
      await taken!.release();
    } finally {
      holder.kill("SIGKILL");
    }
  });

  test("a holder whose connection goes silent gives the lease up after lostAfterMs", async () => {
    const proxy = await silenceableProxy(new URL(postgresTestUrl));
    const url = new URL(postgresTestUrl);
    url.host = `127.0.0.1:${proxy.port}`;
    const behindProxy = await openDatabase({ kind: "postgres", url: url.toString(), schema, maxConnections: 1 });
    try {
      const held = (await behindProxy.tryLease("relay", { checkEveryMs: 50, lostAfterMs: 300 }))!;
      assert.ok(held);
      const lost = lostReason(held);
      proxy.silence();
      assert.match((await lost).message, /did not answer within 300 ms/);
      // The server still has the session: it is the silent holder's keepalives that end it. Here
      // the test ends it, as the network coming back would.
      assert.equal(await other.tryLease("relay"), undefined);
      proxy.cut();
      let taken: Lease | undefined;
      await eventually("the lease is free again", async () => (taken = await other.tryLease("relay")) !== undefined);
      await taken!.release();
    } finally {
      proxy.cut();
      await behindProxy.close();
      await proxy.close();
    }
  });
});

/** A TCP proxy to the server that can stop forwarding (a network gone silent) and then cut every connection. */
async function silenceableProxy(target: URL) {
  const pairs: Array<[Socket, Socket]> = [];
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    pairs.push([client, upstream]);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as { port: number }).port,
    silence() {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    cut() {
      for (const [client, upstream] of pairs.splice(0)) {
        client.destroy();
        upstream.destroy();
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
