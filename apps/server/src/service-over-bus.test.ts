import assert from "node:assert/strict";
import { test } from "node:test";
import { create, type Message } from "@bufbuild/protobuf";
import type { CommandBus, CommandEnvelope } from "@sluice/bus";
import { Role } from "@sluice/contracts";
import {
  CreateProjectRequestSchema,
  CreateProjectResponseSchema,
  DispatchCommandService,
} from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { Router, type Session } from "@sluice/rpc";
import { serviceOverBus } from "./service-over-bus";

const session: Session = {
  sessionId: "s-1",
  userId: "u-1",
  displayName: "Dana",
  organizationId: "org-1",
  role: Role.DISPATCHER,
  expiresAt: Date.now() + 60_000,
};

test("a command run through the router goes on the bus, with the caller's session and ids", async () => {
  const sent: CommandEnvelope[] = [];
  const bus: CommandBus = {
    async send(envelope: CommandEnvelope): Promise<Message> {
      sent.push(envelope);
      return create(CreateProjectResponseSchema, { projectId: "p-1" });
    },
    async close() {},
  };
  const router = new Router().service(DispatchCommandService, serviceOverBus(DispatchCommandService, bus));
  const route = router.route("dispatch.v1.DispatchCommandService/CreateProject")!;
  const request = create(CreateProjectRequestSchema, { name: "Harbour run" });
  const response = await router.invoke(route, request, {
    session,
    commandId: "c-1",
    correlationId: "k-1",
    traceparent: undefined,
    signal: new AbortController().signal,
  });
  assert.deepEqual(response, create(CreateProjectResponseSchema, { projectId: "p-1" }));
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.method, "dispatch.v1.DispatchCommandService/CreateProject");
  assert.equal(sent[0]!.request, request);
  assert.deepEqual([sent[0]!.session, sent[0]!.commandId, sent[0]!.correlationId], [session, "c-1", "k-1"]);
});
