import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { MemoryBroker, organizationChannel, type Broker } from "@sluice/broker";
import { InProcessEventBus, type EventBus, type EventHandler } from "@sluice/bus";
import type { Publication } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import { OrderCreatedSchema, OrderEditedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import type { RecordedEvent } from "@sluice/event-store";
import { startSinkGateway } from "./sink-gateway";

const org = randomUUID();
const orderId = randomUUID();

function recorded(streamVersion: bigint, data: RecordedEvent["data"]): RecordedEvent {
  return {
    eventId: randomUUID(),
    organizationId: org,
    streamId: `order-${orderId}`,
    streamType: "dispatch.order",
    streamVersion,
    globalPosition: streamVersion,
    transactionId: 1n,
    type: data.$typeName,
    data,
    metadata: { userId: "u-1", commandId: randomUUID(), correlationId: randomUUID() },
    occurredAt: new Date(),
  };
}

const created = recorded(
  1n,
  create(OrderCreatedSchema, { orderId, projectId: "p-1", consignee: "ACME", address: "Main St 1", weightKg: 1 }),
);
const edited = recorded(
  2n,
  create(OrderEditedSchema, { orderId, projectId: "p-1", consignee: "ACME 2", address: "Main St 1", weightKg: 2 }),
);

test("the sink publishes each event on its channels once, in order, though the bus delivers it twice", async () => {
  const bus = new InProcessEventBus();
  const broker = new MemoryBroker();
  const received: Publication[] = [];
  await broker.subscribe(organizationChannel(org, "project:p-1"), {
    publication: (_channel, publication) => void received.push(publication),
    presence: () => {},
    stateLost: () => {},
  });
  const sink = await startSinkGateway({
    bus,
    broker,
    channelsOf: (event) => (event.organizationId === org ? ["project:p-1"] : []),
    onError: (error) => assert.fail(error as Error),
  });
  try {
    await bus.publish([created]);
    // An outbox that crashed after handing these on hands them on again from its checkpoint.
    await bus.publish([created, edited]);
    await bus.publish([edited]);
    assert.deepEqual(
      received.map((publication) => [publication.metadata?.streamVersion, publication.offset, publication.channel]),
      [
        [1n, 1n, "project:p-1"],
        [2n, 2n, "project:p-1"],
      ],
    );
  } finally {
    await sink.stop();
    await broker.close();
  }
});

test("an event the sink cannot publish is reported and the next ones still go", async () => {
  const bus = new InProcessEventBus();
  const broker = new MemoryBroker();
  const failures: string[] = [];
  const sink = await startSinkGateway({
    bus,
    broker,
    channelsOf: (event) => {
      if (event.streamVersion === 1n) throw new Error("no channels for you");
      return ["project:p-1"];
    },
    onError: (error, event) => failures.push(`${event.streamVersion}: ${(error as Error).message}`),
  });
  try {
    await bus.publish([created, edited]);
    assert.deepEqual(failures, ["1: no channels for you"]);
    const history = await broker.history(organizationChannel(org, "project:p-1"), { offset: 0n, epoch: "" } as never);
    assert.equal(history.position.offset, 1n);
  } finally {
    await sink.stop();
    await broker.close();
  }
});

test("a sink started again gets what it had published handed on again, and the channel still carries each event once", async () => {
  const bus = new InProcessEventBus();
  const broker = new MemoryBroker();
  const received: Publication[] = [];
  await broker.subscribe(organizationChannel(org, "project:p-1"), {
    publication: (_channel, publication) => void received.push(publication),
    presence: () => {},
    stateLost: () => {},
  });
  const options = {
    bus,
    broker,
    channelsOf: () => ["project:p-1"],
    onError: (error: unknown) => assert.fail(error as Error),
  };
  try {
    const first = await startSinkGateway(options);
    await bus.publish([created]);
    // It dies before its offsets are committed; its successor remembers nothing and reads them again.
    await first.stop();
    const second = await startSinkGateway(options);
    await bus.publish([created, edited]);
    await second.stop();
    assert.deepEqual(
      received.map((publication) => [publication.metadata?.streamVersion, publication.offset]),
      [
        [1n, 1n],
        [2n, 2n],
      ],
    );
  } finally {
    await broker.close();
  }
});

test("a broker that fails fails the batch, and the batch handed on again publishes what had not gone", async () => {
  const broker = new MemoryBroker();
  let handler: EventHandler | undefined;
  const bus: EventBus = {
    publish: async () => {},
    subscribe: (_group, handle) => ((handler = handle), () => {}),
    close: async () => {},
  };
  let failNext = false;
  const flaky: Broker = Object.assign(Object.create(broker) as Broker, {
    publish: (channel: string, publication: Parameters<Broker["publish"]>[1]) => {
      if (failNext) {
        failNext = false;
        return Promise.reject(new Error("Redis unavailable"));
      }
      return broker.publish(channel, publication);
    },
  });
  const failures: bigint[] = [];
  const sink = await startSinkGateway({
    bus,
    broker: flaky,
    channelsOf: () => ["project:p-1"],
    onError: (_error, event) => failures.push(event.streamVersion),
  });
  try {
    await handler!([created]);
    failNext = true;
    await assert.rejects(Promise.resolve(handler!([edited])), /Redis unavailable/);
    assert.deepEqual(failures, [2n]);
    await handler!([created, edited]);
    const history = await broker.history(organizationChannel(org, "project:p-1"), { offset: 0n, epoch: "" } as never);
    assert.equal(history.position.offset, 2n, "each event once");
  } finally {
    await sink.stop();
    await broker.close();
  }
});
