import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import {
  CreateOrderRequestSchema,
  CreateProjectRequestSchema,
  DispatchCommandService,
  EditOrderRequestSchema,
  type CommandAccepted,
  type CreateOrderResponse,
  type CreateProjectResponse,
} from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { VersionConflictSchema } from "@sluice/contracts/gen/sluice/v1/errors_pb";
import { openDatabase } from "@sluice/database";
import { createDispatchModule } from "@sluice/dispatch";
import { createEventStore, type RecordedEvent } from "@sluice/event-store";
import { kafkaTestSkip } from "@sluice/kafka/testing";
import { ErrorCode, Router, RpcError } from "@sluice/rpc";
import type { CommandEnvelope } from "../command-bus";
import { startOutbox } from "../outbox";
import { KafkaCommandBus } from "./kafka-command-bus";
import { serveKafkaCommands } from "./kafka-command-server";
import { KafkaEventBus } from "./kafka-event-bus";
import { commandEnvelope as envelope, eventually, testSession as session } from "../testing";
import { freshBusOptions } from "./testing";

const skip = await kafkaTestSkip();

describe("Dispatch in the scale-out shape's buses, on the real broker", { skip, timeout: 120_000 }, () => {
  test("commands reach Dispatch's domain service and back; its events reach a consumer group through the outbox", async () => {
    const options = freshBusOptions();
    const db = await openDatabase({ kind: "pglite" });
    const store = await createEventStore(db);
    const dispatch = createDispatchModule({ db, store });
    const server = await serveKafkaCommands(new Router().service(DispatchCommandService, dispatch.commands), options);
    const events = await KafkaEventBus.open(options);
    const outbox = startOutbox(db, store, events, { name: "outbox" });
    const commands = await KafkaCommandBus.open(options);
    const heard: RecordedEvent[] = [];
    events.subscribe("sink-gateway", (batch) => void heard.push(...batch));
    const send = (sent: CommandEnvelope) => commands.send(sent, new AbortController().signal);
    try {
      const { projectId } = (await send(
        envelope("createProject", create(CreateProjectRequestSchema, { name: "Harbour deliveries" })),
      )) as CreateProjectResponse;
      const createOrder = envelope(
        "createOrder",
        create(CreateOrderRequestSchema, { projectId, consignee: "Ada", address: "Quay 1", weightKg: 120 }),
      );
      const { orderId } = (await send(createOrder)) as CreateOrderResponse;
      const again = (await send(createOrder)) as CreateOrderResponse;
      assert.equal(again.orderId, orderId, "a command sent again (same command id) answers with its stored result");

      const edited = (await send(
        envelope("editOrder", create(EditOrderRequestSchema, { orderId, consignee: "Ada L.", expectedVersion: 1n })),
      )) as CommandAccepted;
      assert.deepEqual(
        edited.versions.map((v) => [v.streamId, v.version]),
        [[`order-${orderId}`, 2n]],
      );
      const stale = await send(
        envelope("editOrder", create(EditOrderRequestSchema, { orderId, consignee: "Bo", expectedVersion: 1n })),
      ).then(
        () => assert.fail("a stale edit was accepted"),
        (error: unknown) => error,
      );
      assert.ok(stale instanceof RpcError);
      assert.equal(stale.code, ErrorCode.CONFLICT);
      assert.deepEqual(stale.details, [
        create(VersionConflictSchema, { streamId: `order-${orderId}`, expectedVersion: "1", actualVersion: 2n }),
      ]);

      await eventually("the sink gateway's group has heard the order's two events", () =>
        heard.some((e) => e.streamId === `order-${orderId}` && e.streamVersion === 2n),
      );
      const order = heard.filter((e) => e.streamId === `order-${orderId}`);
      assert.deepEqual(
        order.map((e) => [e.type, e.streamVersion]),
        [
          ["dispatch.v1.OrderCreated", 1n],
          ["dispatch.v1.OrderEdited", 2n],
        ],
      );
      assert.equal(order[0]!.organizationId, session.organizationId);
      assert.equal(order[0]!.metadata.commandId, createOrder.commandId);
      assert.ok(heard.some((e) => e.type === "dispatch.v1.ProjectCreated"));
    } finally {
      await commands.close();
      await server.close();
      await outbox.stop();
      await events.close();
      await db.close();
      await options.cleanUp();
    }
  });
});
