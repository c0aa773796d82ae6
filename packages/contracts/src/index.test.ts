import assert from "node:assert/strict";
import { test } from "node:test";
import { create, ScalarType } from "@bufbuild/protobuf";
import {
  AssignOrderRequestSchema,
  CreateOrderRequestSchema,
  CreateProjectRequestSchema,
  DispatchCommandService,
  EditOrderRequestSchema,
} from "./gen/dispatch/v1/commands_pb";
import { aggregateIdOf } from "./index";

test("aggregateIdOf reads the request field declared (sluice.v1.aggregate_id)", () => {
  const orderId = "8c4b5a0e-7d55-4b0f-9a43-5a7a3f0e2b11";
  const routeId = "1f0e9c3b-2a6d-4e57-8b1c-0d9e8f7a6b5c";
  assert.equal(aggregateIdOf(EditOrderRequestSchema, create(EditOrderRequestSchema, { orderId })), orderId);
  assert.equal(
    aggregateIdOf(AssignOrderRequestSchema, create(AssignOrderRequestSchema, { routeId, orderId })),
    routeId,
    "the route, whose stop list the command changes",
  );
  assert.equal(
    aggregateIdOf(CreateOrderRequestSchema, create(CreateOrderRequestSchema, { projectId: routeId })),
    routeId,
    "a new order's project",
  );
  assert.equal(aggregateIdOf(CreateProjectRequestSchema, create(CreateProjectRequestSchema, { name: "p" })), undefined);
  assert.equal(aggregateIdOf(EditOrderRequestSchema, create(EditOrderRequestSchema, {})), undefined, "empty id");
});

test("every Dispatch command but CreateProject declares the aggregate it targets", () => {
  const declared = DispatchCommandService.methods.map((method) => {
    // Every string field holding its own name: the one read back is the declared one.
    const names = Object.fromEntries(
      method.input.fields
        .filter((f) => f.fieldKind === "scalar" && f.scalar === ScalarType.STRING)
        .map((f) => [f.localName, f.name]),
    );
    return [method.name, aggregateIdOf(method.input, create(method.input, names))];
  });
  assert.deepEqual(Object.fromEntries(declared), {
    CreateProject: undefined,
    CreateOrder: "project_id",
    EditOrder: "order_id",
    CancelOrder: "order_id",
    EraseOrderPersonalData: "order_id",
    CreateRoute: "project_id",
    AssignOrder: "route_id",
    UnassignOrder: "route_id",
    ReorderStops: "route_id",
    DispatchRoute: "route_id",
    CompleteRoute: "route_id",
  });
});
