import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { CreateOrderRequestSchema, CreateOrderResponseSchema } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { OrderCreatedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { ListProjectsRequestSchema, ProjectListSchema } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import type { StreamPosition, Subscribed } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { RunningServer } from "./server";
import { RawClient, signIn, testServer } from "./test-support";

const CREATE_ORDER = "dispatch.v1.DispatchCommandService/CreateOrder";
const LIST_PROJECTS = "dispatch.v1.DispatchQueryService/ListProjects";

async function subscribe(client: RawClient, channel: string, options: { since?: StreamPosition; presence?: boolean } = {}): Promise<Subscribed> {
  const id = client.id();
  client.send({ kind: { case: "subscribe", value: { id, channel, since: options.since, presence: options.presence ?? false } } });
  const reply = await client.next("reply", (r) => r.id === id);
  if (reply.outcome.case !== "subscribed") throw new Error(`subscribe to ${channel} failed: ${reply.outcome.case === "error" ? reply.outcome.value.message : reply.outcome.case}`);
  return reply.outcome.value;
}

describe("real time between two dispatchers", () => {
  let server: RunningServer;
  let ana: RawClient;
  let ben: RawClient;
  let projectId: string;

  before(async () => {
    server = await testServer();
    ana = await RawClient.connect(server.url, await signIn(server.url, "ana@acme.test"));
    ben = await RawClient.connect(server.url, await signIn(server.url, "ben@acme.test"));
    const projects = await ana.result(LIST_PROJECTS, ListProjectsRequestSchema, ProjectListSchema, {});
    projectId = projects.projects[0]!.projectId;
  });

  after(async () => {
    await ana.close();
    await ben.close();
    await server.close();
  });

  const createOrder = (consignee: string) =>
    ana.result(CREATE_ORDER, CreateOrderRequestSchema, CreateOrderResponseSchema, {
      projectId,
      consignee,
      address: "Hafenstrasse 1, Hamburg",
      weightKg: 120,
    });

  test("an order one creates reaches the other on the project's channel", async () => {
    const channel = `project:${projectId}`;
    const subscribed = await subscribe(ben, channel);
    assert.equal(subscribed.recovered, false);
    const { orderId } = await createOrder("Ben's first sighting");
    const publication = await ben.next("publication", (p) => p.channel === channel);
    const event = anyUnpack(publication.event!, OrderCreatedSchema);
    assert.equal(event?.orderId, orderId);
    assert.equal(event?.consignee, "Ben's first sighting");
    assert.equal(publication.offset, subscribed.position!.offset + 1n);
    assert.equal(publication.epoch, subscribed.position!.epoch);
    assert.ok(publication.metadata?.userId);
  });

  test("a client back from a disconnect gets exactly the publications it missed, in order", async () => {
    const channel = `project:${projectId}`;
    const watcher = await RawClient.connect(server.url, await signIn(server.url, "vera@acme.test"));
    await subscribe(watcher, channel);
    const leaving = await RawClient.connect(server.url, await signIn(server.url, "ben@acme.test"));
    const position = (await subscribe(leaving, channel)).position!;
    await leaving.close();

    const missed = [await createOrder("missed one"), await createOrder("missed two")].map((r) => r.orderId);
    // The watcher seeing both means the sink has published them.
    await watcher.next("publication", (p) => anyUnpack(p.event!, OrderCreatedSchema)?.orderId === missed[1]);

    const back = await RawClient.connect(server.url, await signIn(server.url, "ben@acme.test"));
    const recovered = await subscribe(back, channel, { since: position });
    assert.equal(recovered.recovered, true);
    assert.deepEqual(
      recovered.publications.map((p) => anyUnpack(p.event!, OrderCreatedSchema)?.orderId),
      missed,
    );
    assert.deepEqual(recovered.publications.map((p) => p.offset), [position.offset + 1n, position.offset + 2n]);
    assert.equal(recovered.position!.offset, position.offset + 2n);

    // A position from another epoch cannot be recovered: the client is told to refetch.
    const late = await RawClient.connect(server.url, await signIn(server.url, "ben@acme.test"));
    const stale = await subscribe(late, channel, {
      since: { $typeName: "sluice.v1.StreamPosition", offset: 1n, epoch: "gone" },
    });
    assert.equal(stale.recovered, false);
    assert.equal(stale.publications.length, 0);
    await late.close();
    await back.close();
    await watcher.close();
  });

  test("presence: members per user, join and leave told to the others", async () => {
    const channel = "org";
    const first = await subscribe(ana, channel, { presence: true });
    assert.deepEqual(first.presence.map((m) => m.userId), [first.presence[0]!.userId]);
    const benSocket = await RawClient.connect(server.url, await signIn(server.url, "ben@acme.test"));
    const second = await subscribe(benSocket, channel, { presence: true });
    assert.equal(second.presence.length, 2);
    const joined = await ana.next("presenceChange", (c) => c.channel === channel && c.joined);
    assert.equal(joined.member?.displayName, "Ben Brandt");
    await benSocket.close();
    const left = await ana.next("presenceChange", (c) => c.channel === channel && !c.joined);
    assert.equal(left.member?.userId, joined.member?.userId);
  });
});
