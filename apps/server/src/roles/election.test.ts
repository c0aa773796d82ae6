// One outbox relay and one projector per deployment, elected: two domain services and two
// projectors as child processes (`tsx roles/main.ts <role>`) on the machine's Kafka and
// PostgreSQL, with a schema and topics of this run's own. This process appends Dispatch's events
// (a writer like any domain service), hears the events topic, and cuts the lease holders'
// connections (`pg_terminate_backend`) or kills them.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { KafkaEventBus, type KafkaBusOptions } from "@sluice/bus/kafka";
import { Role } from "@sluice/contracts";
import { CreateOrderRequestSchema, CreateProjectRequestSchema } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { openDatabase, type Database } from "@sluice/database";
import { postgresTestUrl, terminateLeaseHolders, testBackends } from "@sluice/database/testing";
import { createEventStore, parseMasterKey, type RecordedEvent } from "@sluice/event-store";
import { kafkaTestConnection, kafkaTestSkip } from "@sluice/kafka/testing";
import type { CallContext } from "@sluice/rpc";
import { openDispatch, type DispatchContext } from "../dispatch-context";
import { eventually, killRole, ScaleOutDeployment, type RoleProcess } from "./testing";

const postgresSkip = (await testBackends()).find((backend) => backend.name === "postgres")!.skip;
const skip = (await kafkaTestSkip()) || postgresSkip;

/** Whether the role at `url` runs its elected work, from its /readyz. */
async function leading(url: string): Promise<boolean> {
  const response = await fetch(`${url}/readyz`);
  return ((await response.json()) as { leading?: boolean }).leading === true;
}

/** The role's `sluice_lease_held` gauge, from its /metrics. */
async function leaseHeld(url: string): Promise<number> {
  const metrics = await (await fetch(`${url}/metrics`)).text();
  return Number(/^sluice_lease_held\{[^}]*\} (\d+)$/m.exec(metrics)?.[1]);
}

/** Resolves once `url` leads and the others of `urls` do not. */
async function leads(url: string, urls: readonly string[]): Promise<void> {
  await eventually(`${url} leads alone`, async () => {
    const flags = await Promise.all(urls.map(leading));
    return urls.every((other, index) => flags[index] === (other === url));
  });
}

/** The one of `urls` that leads, once exactly one does. */
async function theLeader(urls: readonly string[]): Promise<string> {
  let leaders: string[] = [];
  await eventually("exactly one leads", async () => {
    const flags = await Promise.all(urls.map(leading));
    leaders = urls.filter((_, index) => flags[index]);
    return leaders.length === 1;
  });
  return leaders[0]!;
}

describe("one outbox relay and one projector per deployment, elected", { skip, timeout: 300_000 }, () => {
  const deployment = new ScaleOutDeployment({
    env: { DATABASE_MAX_CONNECTIONS: "3", KAFKA_PARTITIONS: "2", LEASE_RETRY_MS: "200" },
  });
  const run_ = deployment.id;
  const { schema, topicPrefix } = deployment;
  const masterKey = deployment.env.SLUICE_PERSONAL_DATA_KEY!;
  const busOptions: KafkaBusOptions = { connection: kafkaTestConnection, contexts: ["dispatch"], topicPrefix };
  let domainServices: RoleProcess[];
  let projectors: RoleProcess[];
  let db: Database;
  let dispatch: DispatchContext;
  let eventBus: KafkaEventBus;
  /** Every event heard on the events topic, repeats included, by global position. */
  const heard = new Map<bigint, number>();
  const organizationId = randomUUID();

  const context = (): CallContext => ({
    session: {
      sessionId: randomUUID(),
      userId: "user-ana",
      displayName: "Ana",
      organizationId,
      role: Role.DISPATCHER,
      expiresAt: Date.now() + 60_000,
    },
    commandId: randomUUID(),
    correlationId: randomUUID(),
    traceparent: undefined,
    signal: new AbortController().signal,
  });

  /** A project and `orders` orders in it: 1 + orders events. */
  async function work(orders: number): Promise<string> {
    const commands = dispatch.dispatch.commands;
    const { projectId } = await commands.createProject(create(CreateProjectRequestSchema, { name: "Quay" }), context());
    for (let i = 0; i < orders; i++) {
      const request = create(CreateOrderRequestSchema, {
        projectId,
        consignee: `C${i}`,
        address: "Quay 1",
        weightKg: 10,
      });
      await commands.createOrder(request, context());
    }
    return projectId!;
  }

  async function logPositions(): Promise<bigint[]> {
    const { rows } = await db.query<{ global_position: bigint }>("select global_position from events order by 1");
    return rows.map((row) => row.global_position);
  }

  async function checkpointAt(name: string): Promise<bigint> {
    const { rows } = await db.query<{ global_position: bigint }>(
      "select global_position from consumer_checkpoints where name = $1",
      [name],
    );
    return rows[0]?.global_position ?? -1n;
  }

  const allHeard = async () => (await logPositions()).every((position) => heard.has(position));
  const repeats = () => [...heard].filter(([, times]) => times > 1).map(([position]) => position);

  before(async () => {
    // The first domain service alone: it creates the event store's tables and the topics.
    domainServices = [await deployment.start({ role: "domain-service", name: "domain service 1" })];
    const others = await Promise.all([
      deployment.start({ role: "domain-service", name: "domain service 2" }),
      deployment.start({ role: "projector", name: "projector 1" }),
      deployment.start({ role: "projector", name: "projector 2" }),
    ]);
    domainServices.push(others[0]);
    projectors = others.slice(1);

    db = await openDatabase({ kind: "postgres", url: postgresTestUrl, schema, maxConnections: 3 });
    const store = await createEventStore(db, { personalData: { masterKey: parseMasterKey(masterKey) } });
    dispatch = await openDispatch(db, store);
    eventBus = await KafkaEventBus.open(busOptions);
    eventBus.subscribe(`listener-${run_}`, async (events: readonly RecordedEvent[]) => {
      for (const event of events) heard.set(event.globalPosition, (heard.get(event.globalPosition) ?? 0) + 1);
    });
  });

  after(async () => {
    await eventBus?.close();
    await db?.close();
    await deployment.cleanUp();
  });

  const urls = async (of: readonly RoleProcess[]) => Promise.all(of.map((role) => role.ready));

  test("of two domain services one relays, the other stands by; each event reaches the events topic once", async () => {
    const all = await urls(domainServices);
    const leader = await theLeader(all);
    assert.deepEqual(
      await Promise.all(all.map(leaseHeld)),
      all.map((url) => (url === leader ? 1 : 0)),
    );
    await work(20);
    await eventually("every event was heard", allHeard);
    assert.deepEqual(repeats(), [], "no event published twice");
  });

  test("the relay's connection cut: the other domain service relays; nothing lost, nothing repeated", async () => {
    const all = await urls(domainServices);
    const before = await theLeader(all);
    const last = (await logPositions()).at(-1)!;
    await eventually("the outbox's checkpoint passed every event", async () => (await checkpointAt("outbox")) >= last);
    assert.equal(await terminateLeaseHolders(db, "outbox"), 1);
    await leads(
      all.find((url) => url !== before)!,
      all,
    );
    await work(5);
    await eventually("every event was heard", allHeard);
    assert.deepEqual(repeats(), [], "no event published twice");
  });

  test("the relay's connection cut while commands keep coming: the other relays; nothing lost, nothing repeated", async () => {
    const all = await urls(domainServices);
    const before = await theLeader(all);
    const busy = work(30);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await terminateLeaseHolders(db, "outbox"), 1);
    await busy;
    await leads(
      all.find((url) => url !== before)!,
      all,
    );
    await eventually("every event was heard", allHeard);
    // The old relay finishes the batch in hand; the new one's checkpoint move waits for it and
    // fails if it committed, so no batch goes out twice when only the lease's connection is cut.
    assert.deepEqual(repeats(), [], "no event published twice");
  });

  test("the relay killed (SIGKILL) while commands keep coming: the other relays every event, at least once", async () => {
    const all = await urls(domainServices);
    const before = await theLeader(all);
    const busy = work(30);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const killed = domainServices[all.indexOf(before)]!;
    await killRole(killed);
    await busy;
    const survivor = all.find((url) => url !== before)!;
    await eventually("the survivor relays", () => leading(survivor));
    await eventually("every event was heard", allHeard);
    // At least once: a batch the killed relay had published but not checkpointed goes out again.
    const batchSize = 1_000;
    assert.ok(repeats().length <= batchSize, `${repeats().length} events published twice`);
  });

  test("of two projectors one projects; cut or killed, the other takes over and nothing is lost", async () => {
    const projection = "projection:dispatch.read-models";
    const projects = async () =>
      Number((await db.query<{ n: bigint }>("select count(*) as n from dispatch_projects")).rows[0]!.n);
    const [first, second] = await urls(projectors);
    const leader = await theLeader([first!, second!]);
    const lastPosition = async () => (await logPositions()).at(-1)!;
    await eventually(
      "the read models hold every event",
      async () => (await checkpointAt(projection)) >= (await lastPosition()),
    );
    const before = await projects();

    assert.equal(await terminateLeaseHolders(db, projection), 1);
    const standby = leader === first ? second! : first!;
    await leads(standby, [first!, second!]);
    await work(1);
    await eventually("the read models hold the new project", async () => (await projects()) === before + 1);

    // Killed outright: its session ends with the process, and the first takes over again.
    const killed = projectors[leader === first ? 1 : 0]!;
    await killRole(killed);
    await eventually("the first projects again", () => leading(leader));
    assert.equal(await terminateLeaseHolders(db, projection), 1, "one holder, not two");
    await eventually("it took the lease again", () => leading(leader));
    await work(1);
    await eventually("the read models hold the newest project", async () => (await projects()) === before + 2);
    await eventually(
      "the checkpoint passed every event",
      async () => (await checkpointAt(projection)) >= (await lastPosition()),
    );
  });
});
