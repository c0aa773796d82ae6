import { create } from "@bufbuild/protobuf";
import { Role } from "@sluice/contracts";
import { DispatchQueryService, ProjectListSchema } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import { GetOrderBoardRequestSchema, ListProjectsRequestSchema } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import { FieldViolationsSchema } from "@sluice/contracts/gen/sluice/v1/errors_pb";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ErrorCode, RpcError } from "./error";
import { Router, type CallContext, type ServiceImpl } from "./router";

const queries: ServiceImpl<typeof DispatchQueryService> = {
  listProjects: async () => ({ projects: [{ projectId: "p1", name: "Depot" }] }),
  getOrderBoard: async (request) => ({ projectId: request.projectId }),
  listRoutes: async () => ({}),
  getRouteSheet: async () => ({}),
  listActivity: async () => ({}),
};

function context(role: Role): CallContext {
  return {
    session: {
      sessionId: "s",
      userId: "u",
      displayName: "U",
      organizationId: "o",
      role,
      expiresAt: Date.now() + 60_000,
    },
    commandId: "c",
    correlationId: "c",
    traceparent: undefined,
    signal: new AbortController().signal,
  };
}

const router = new Router().service(DispatchQueryService, queries);
const listProjects = router.route("dispatch.v1.DispatchQueryService/ListProjects")!;
const getOrderBoard = router.route("dispatch.v1.DispatchQueryService/GetOrderBoard")!;

describe("Router", () => {
  test("routes every method of a service by its full name, with its declared policy", () => {
    assert.equal([...router.routes].length, DispatchQueryService.methods.length);
    assert.equal(listProjects.policy.minRole, Role.VIEWER);
    assert.equal(router.route("dispatch.v1.DispatchQueryService/Nope"), undefined);
  });

  test("invokes the implementation and returns the output message", async () => {
    const output = await router.invoke(listProjects, create(ListProjectsRequestSchema), context(Role.VIEWER));
    assert.equal(output.$typeName, ProjectListSchema.typeName);
    assert.equal((output as ReturnType<typeof create<typeof ProjectListSchema>>).projects[0]?.name, "Depot");
  });

  test("refuses a role below the method's policy before running anything", async () => {
    await assert.rejects(
      router.invoke(listProjects, create(ListProjectsRequestSchema), context(Role.UNSPECIFIED)),
      (error: unknown) => error instanceof RpcError && error.code === ErrorCode.PERMISSION_DENIED,
    );
  });

  test("refuses a request breaking its validation rules, naming each field", async () => {
    const request = create(GetOrderBoardRequestSchema, { projectId: "not-a-uuid" });
    await assert.rejects(router.invoke(getOrderBoard, request, context(Role.OWNER)), (error: unknown) => {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, ErrorCode.INVALID_ARGUMENT);
      const detail = error.details[0];
      assert.equal(detail?.$typeName, FieldViolationsSchema.typeName);
      assert.deepEqual(
        (detail as ReturnType<typeof create<typeof FieldViolationsSchema>>).violations.map((v) => [v.field, v.rule]),
        [["project_id", "string.uuid"]],
      );
      return true;
    });
  });

  test("a service missing an implementation is refused when registered", () => {
    const { listActivity: _, ...incomplete } = queries;
    assert.throws(
      () => new Router().service(DispatchQueryService, incomplete as typeof queries),
      /ListActivity has no implementation/,
    );
  });
});

describe("RpcError", () => {
  test("survives the trip through the contract's Error message, details included", () => {
    const original = RpcError.conflict("order-1", "3", 4n);
    const copy = RpcError.fromMessage(original.toMessage());
    assert.equal(copy.code, ErrorCode.CONFLICT);
    assert.equal(copy.message, original.message);
    assert.equal(copy.retriable, true);
    assert.deepEqual(copy.details, original.details);
  });
});
