import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import { MessageChannel } from "node:worker_threads";
import { create } from "@bufbuild/protobuf";
import {
  CancelOrderRequestSchema,
  CreateProjectRequestSchema,
  DispatchCommandService,
  EditOrderRequestSchema,
  type CreateProjectResponse,
} from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { FieldViolationsSchema, RuleViolationSchema } from "@sluice/contracts/gen/sluice/v1/errors_pb";
import type { RecordedEvent } from "@sluice/event-store";
import { ErrorCode, Router, RpcError, type ServiceImpl, type Session } from "@sluice/rpc";
import { commandEnvelope as envelope, dispatchService, orderEvents, testSession as session } from "../testing";
import { ThreadCommandBus } from "./thread-command-bus";
import { serveThreadCommands } from "./thread-command-server";
import { ThreadEventBus } from "./thread-event-bus";

/** The two ends on one channel, as the embedded server has them on two threads. */
function connected(service: ServiceImpl<typeof DispatchCommandService>, replyTimeoutMs = 10_000) {
  const { port1, port2 } = new MessageChannel();
  const server = serveThreadCommands(new Router().service(DispatchCommandService, service), port2);
  const bus = new ThreadCommandBus(port1, { replyTimeoutMs });
  return { bus, server, port1 };
}

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => assert.fail("resolved"),
    (error: unknown) => error,
  );

describe("ThreadCommandBus and serveThreadCommands", () => {
  test("a call reaches the served router with its session and ids, and its response comes back", async () => {
    const projectId = randomUUID();
    const seen: { session: Session; commandId: string; traceparent: string | undefined }[] = [];
    const { bus, server } = connected(
      dispatchService({
        createProject: async (_request, context) => {
          seen.push(context);
          return { projectId, accepted: { versions: [{ streamId: `project-${projectId}`, version: 1n }] } };
        },
      }),
    );
    const sent = envelope("createProject", create(CreateProjectRequestSchema, { name: "Harbour deliveries" }));
    const response = (await bus.send(sent, new AbortController().signal)) as CreateProjectResponse;
    assert.equal(response.projectId, projectId);
    assert.deepEqual(response.accepted?.versions[0]?.version, 1n);
    assert.deepEqual(seen[0]!.session, session);
    assert.equal(seen[0]!.commandId, sent.commandId);
    assert.equal(seen[0]!.traceparent, sent.traceparent);
    await bus.close();
    await server.close();
  });

  test("a typed error comes back as the same RpcError; the served end validates again", async () => {
    const { bus, server } = connected(
      dispatchService({
        cancelOrder: async () => {
          throw RpcError.ruleBroken("order.already_dispatched", "the order is on a dispatched route");
        },
      }),
    );
    const signal = new AbortController().signal;
    const broken = await rejection(
      bus.send(envelope("cancelOrder", create(CancelOrderRequestSchema, { orderId: randomUUID() })), signal),
    );
    assert.ok(broken instanceof RpcError);
    assert.equal(broken.code, ErrorCode.FAILED_PRECONDITION);
    assert.deepEqual(broken.details, [
      create(RuleViolationSchema, { rule: "order.already_dispatched", message: "the order is on a dispatched route" }),
    ]);
    // Never admitted by an edge: the port alone carries it.
    const invalid = await rejection(
      bus.send(envelope("editOrder", create(EditOrderRequestSchema, { orderId: "not-a-uuid" })), signal),
    );
    assert.ok(invalid instanceof RpcError);
    assert.equal(invalid.code, ErrorCode.INVALID_ARGUMENT);
    assert.equal(invalid.details[0]?.$typeName, FieldViolationsSchema.typeName);
    await bus.close();
    await server.close();
  });

  test("a malformed record on the port is skipped; the call after it is answered", async () => {
    const { bus, server, port1 } = connected(dispatchService({}));
    port1.postMessage(new Uint8Array([0xff, 0xff, 0xff]));
    const sent = envelope("createProject", create(CreateProjectRequestSchema, { name: "After the garbage" }));
    await bus.send(sent, new AbortController().signal);
    await bus.close();
    await server.close();
  });

  test("a caller that gives up stops waiting; the served end closing fails what waits, retriable", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { bus, server } = connected(
      dispatchService({
        createProject: async () => {
          await held;
          return { projectId: randomUUID() };
        },
      }),
    );
    const controller = new AbortController();
    const request = create(CreateProjectRequestSchema, { name: "Held" });
    const abandoned = rejection(bus.send(envelope("createProject", request), controller.signal));
    controller.abort();
    const gaveUp = await abandoned;
    assert.ok(gaveUp instanceof RpcError);
    assert.equal(gaveUp.code, ErrorCode.TIMEOUT);
    assert.equal(gaveUp.retriable, true);

    const waiting = rejection(bus.send(envelope("createProject", request), new AbortController().signal));
    const closed = server.close();
    release();
    await closed;
    const gone = await waiting;
    // Answered before the port closed, or failed as the thread went: either way once, never hung.
    if (gone instanceof RpcError) assert.equal(gone.code, ErrorCode.UNAVAILABLE);
    await bus.close();
  });
});

describe("ThreadEventBus", () => {
  test("publish resolves once the other end's groups have the events, as recorded and in order", async () => {
    const { port1, port2 } = new MessageChannel();
    const publisher = new ThreadEventBus(port1);
    const consumer = new ThreadEventBus(port2);
    const heard: RecordedEvent[] = [];
    const echoed: RecordedEvent[] = [];
    consumer.subscribe("sink", async (events) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      heard.push(...events);
    });
    publisher.subscribe("same-end", (events) => void echoed.push(...events));
    const stream = orderEvents(6);
    await publisher.publish(stream.slice(0, 3));
    // Resolved only after the handler ran to its end.
    assert.equal(heard.length, 3);
    await publisher.publish(stream.slice(3));
    assert.deepEqual(heard, stream);
    assert.deepEqual(echoed, [], "groups at the publishing end hear nothing");
    const portClosed = new Promise((resolve) => port1.once("close", resolve));
    await consumer.close();
    await portClosed;
    await assert.rejects(publisher.publish(orderEvents(1)), /gone|closed/);
    await publisher.close();
  });
});
