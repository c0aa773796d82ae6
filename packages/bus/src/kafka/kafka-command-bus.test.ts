import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, test } from "node:test";
import { create, type Message } from "@bufbuild/protobuf";
import {
  CancelOrderRequestSchema,
  CreateProjectRequestSchema,
  DispatchCommandService,
  EditOrderRequestSchema,
  type CreateProjectResponse,
} from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import {
  FieldViolationsSchema,
  RuleViolationSchema,
  VersionConflictSchema,
} from "@sluice/contracts/gen/sluice/v1/errors_pb";
import { openProducer } from "@sluice/kafka";
import { kafkaTestConnection, kafkaTestSkip } from "@sluice/kafka/testing";
import { ErrorCode, Router, RpcError, type ServiceImpl, type Session } from "@sluice/rpc";
import { KafkaCommandBus } from "./kafka-command-bus";
import { serveKafkaCommands } from "./kafka-command-server";
import { commandEnvelope as envelope, dispatchService, eventually, testSession as session } from "../testing";
import { freshBusOptions } from "./testing";
import { commandsTopic, type KafkaBusOptions } from "./topics";

const skip = await kafkaTestSkip();

/** A domain service and a gateway's bus over fresh topics, closed and deleted after `run`. */
async function withCommandBus(
  service: ServiceImpl<typeof DispatchCommandService> | undefined,
  run: (bus: KafkaCommandBus, options: KafkaBusOptions) => Promise<void>,
  replyTimeoutMs = 20_000,
): Promise<void> {
  const options = freshBusOptions();
  const server = service
    ? await serveKafkaCommands(new Router().service(DispatchCommandService, service), options)
    : undefined;
  const bus = await KafkaCommandBus.open({ ...options, replyTimeoutMs });
  try {
    await run(bus, options);
  } finally {
    await bus.close();
    await server?.close();
    await options.cleanUp();
  }
}

const orderId = () => randomUUID();

describe("KafkaCommandBus and serveKafkaCommands on the real broker", { skip, timeout: 120_000 }, () => {
  test("a command reaches the domain service with its session and ids, and its response comes back", async () => {
    const projectId = randomUUID();
    const seen: { session: Session; commandId: string; traceparent: string | undefined }[] = [];
    const service = dispatchService({
      createProject: async (request, context) => {
        seen.push(context);
        return { projectId, accepted: { versions: [{ streamId: `project-${projectId}`, version: 1n }] } };
      },
    });
    await withCommandBus(service, async (bus) => {
      const sent = envelope("createProject", create(CreateProjectRequestSchema, { name: "Harbour deliveries" }));
      const response = (await bus.send(sent, new AbortController().signal)) as CreateProjectResponse;
      assert.equal(response.projectId, projectId);
      assert.deepEqual(
        response.accepted?.versions.map((v) => [v.streamId, v.version]),
        [[`project-${projectId}`, 1n]],
      );
      assert.deepEqual(seen[0]!.session, session);
      assert.equal(seen[0]!.commandId, sent.commandId);
      assert.equal(seen[0]!.traceparent, sent.traceparent);
    });
  });

  test("a typed error comes back as the same RpcError: code, message, details, retriable", async () => {
    const service = dispatchService({
      cancelOrder: async () => {
        throw RpcError.ruleBroken("order.already_dispatched", "the order is on a dispatched route");
      },
      editOrder: async (request) => {
        throw RpcError.conflict(`order-${request.orderId}`, "3", 4n);
      },
    });
    await withCommandBus(service, async (bus) => {
      const signal = new AbortController().signal;
      const broken = await bus
        .send(envelope("cancelOrder", create(CancelOrderRequestSchema, { orderId: orderId() })), signal)
        .then(
          () => assert.fail("resolved"),
          (error: unknown) => error,
        );
      assert.ok(broken instanceof RpcError);
      assert.equal(broken.code, ErrorCode.FAILED_PRECONDITION);
      assert.equal(broken.message, "the order is on a dispatched route");
      assert.equal(broken.retriable, false);
      assert.deepEqual(broken.details, [
        create(RuleViolationSchema, {
          rule: "order.already_dispatched",
          message: "the order is on a dispatched route",
        }),
      ]);

      const id = orderId();
      const conflict = await bus
        .send(envelope("editOrder", create(EditOrderRequestSchema, { orderId: id, expectedVersion: 3n })), signal)
        .then(
          () => assert.fail("resolved"),
          (error: unknown) => error,
        );
      assert.ok(conflict instanceof RpcError);
      assert.equal(conflict.code, ErrorCode.CONFLICT);
      assert.equal(conflict.retriable, true);
      assert.deepEqual(conflict.details, [
        create(VersionConflictSchema, { streamId: `order-${id}`, expectedVersion: "3", actualVersion: 4n }),
      ]);
    });
  });

  test("the domain service validates again what comes off the topic", async () => {
    await withCommandBus(dispatchService({}), async (bus) => {
      // Never admitted by an edge: the bus alone carries it.
      const invalid = envelope("editOrder", create(EditOrderRequestSchema, { orderId: "not-a-uuid" }));
      const error = await bus.send(invalid, new AbortController().signal).then(
        () => assert.fail("resolved"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, ErrorCode.INVALID_ARGUMENT);
      assert.equal(error.details[0]?.$typeName, FieldViolationsSchema.typeName);
    });
  });

  test("one aggregate's commands, sent at once, run in the order sent", async () => {
    const ran = new Map<string, string[]>();
    const service = dispatchService({
      editOrder: async (request) => {
        // Uneven work, so that commands running out of order would show.
        await sleep(Math.random() * 3);
        ran.set(request.orderId, [...(ran.get(request.orderId) ?? []), request.consignee ?? ""]);
        return {};
      },
    });
    await withCommandBus(service, async (bus) => {
      const orders = [orderId(), orderId(), orderId()];
      const perOrder = 20;
      const sends: Promise<Message>[] = [];
      for (let i = 0; i < perOrder; i++) {
        for (const id of orders) {
          const request = create(EditOrderRequestSchema, { orderId: id, consignee: `${i}` });
          sends.push(bus.send(envelope("editOrder", request), new AbortController().signal));
        }
      }
      await Promise.all(sends);
      for (const id of orders) {
        assert.deepEqual(
          ran.get(id),
          Array.from({ length: perOrder }, (_, i) => `${i}`),
          `${id} in order`,
        );
      }
    });
  });

  test("with no domain service running, a command fails as UNAVAILABLE, retriable, once its deadline passes", async () => {
    await withCommandBus(
      undefined,
      async (bus) => {
        const error = await bus
          .send(
            envelope("cancelOrder", create(CancelOrderRequestSchema, { orderId: orderId() })),
            new AbortController().signal,
          )
          .then(
            () => assert.fail("resolved"),
            (e: unknown) => e,
          );
        assert.ok(error instanceof RpcError);
        assert.equal(error.code, ErrorCode.UNAVAILABLE);
        assert.equal(error.retriable, true);
      },
      500,
    );
  });

  test("a caller that gives up stops waiting: the send rejects when its signal aborts", async () => {
    await withCommandBus(undefined, async (bus) => {
      const controller = new AbortController();
      const sending = bus.send(
        envelope("cancelOrder", create(CancelOrderRequestSchema, { orderId: orderId() })),
        controller.signal,
      );
      // On its way or put on the topic already: either way nothing will answer it.
      await sleep(50);
      controller.abort();
      const error = await sending.then(
        () => assert.fail("resolved"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, ErrorCode.TIMEOUT);
      assert.equal(error.retriable, true);
    });
  });

  test("a reply to a gateway that has closed is dropped; the domain service goes on answering others", async () => {
    let started = false;
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const service = dispatchService({
      editOrder: async (request) => {
        if (request.consignee === "slow") {
          started = true;
          await released;
        }
        return {};
      },
    });
    const options = freshBusOptions();
    const server = await serveKafkaCommands(new Router().service(DispatchCommandService, service), options);
    const gone = await KafkaCommandBus.open(options);
    // Answering this gateway may wait for the producer to give up on the topic that went: ~5 s.
    const other = await KafkaCommandBus.open({ ...options, replyTimeoutMs: 60_000 });
    try {
      // Answered once, so the service has seen its replies topic exist.
      const first = create(EditOrderRequestSchema, { orderId: orderId(), consignee: "first" });
      await gone.send(envelope("editOrder", first), new AbortController().signal);
      const slow = create(EditOrderRequestSchema, { orderId: orderId(), consignee: "slow" });
      const abandoned = gone.send(envelope("editOrder", slow), new AbortController().signal).catch((e: unknown) => e);
      await eventually("the slow command runs", () => started);
      await gone.close();
      const error = await abandoned;
      assert.ok(error instanceof RpcError && error.code === ErrorCode.UNAVAILABLE && error.retriable);
      release();
      const next = create(EditOrderRequestSchema, { orderId: orderId(), consignee: "next" });
      await other.send(envelope("editOrder", next), new AbortController().signal);
    } finally {
      release();
      await other.close();
      await server.close();
      await options.cleanUp();
    }
  });

  test("a malformed record on the commands topic is skipped; the commands after it are answered", async () => {
    await withCommandBus(dispatchService({}), async (bus, options) => {
      const id = orderId();
      const producer = openProducer(kafkaTestConnection);
      try {
        // Ahead of the command, on its partition (same key).
        const topic = commandsTopic(options, "dispatch");
        await producer.send([{ topic, key: new TextEncoder().encode(id), value: new Uint8Array([0x0a, 0xff]) }]);
      } finally {
        await producer.close();
      }
      const request = create(CancelOrderRequestSchema, { orderId: id });
      await bus.send(envelope("cancelOrder", request), new AbortController().signal);
    });
  });
});
