// For this package's tests only: a caller and its commands, events of an order stream, and
// waiting on a condition.
import { randomUUID } from "node:crypto";
import { create, type Message } from "@bufbuild/protobuf";
import { Role, methodName } from "@sluice/contracts";
import { DispatchCommandService } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { OrderEditedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import type { RecordedEvent } from "@sluice/event-store";
import type { ServiceImpl, Session } from "@sluice/rpc";
import type { CommandEnvelope } from "./command-bus";

/** Resolves once `condition` holds; fails with `what` if it does not within `timeoutMs`. */
export async function eventually(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The caller every test command comes from: a dispatcher of an organization of its own. */
export const testSession: Session = {
  sessionId: "s-1",
  userId: "u-1",
  displayName: "Dana Dispatcher",
  organizationId: randomUUID(),
  role: Role.DISPATCHER,
  expiresAt: Date.now() + 3_600_000,
};

/** A Dispatch command from `testSession`, with fresh ids and a trace. */
export function commandEnvelope(method: keyof typeof DispatchCommandService.method, request: Message): CommandEnvelope {
  return {
    method: methodName(DispatchCommandService.method[method]),
    request,
    session: testSession,
    commandId: randomUUID(),
    correlationId: randomUUID(),
    traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
  };
}

let position = 0n;

/** `count` events of one new order stream, versions 1..count. */
export function orderEvents(count: number, streamId = `order-${randomUUID()}`): RecordedEvent[] {
  return Array.from({ length: count }, (_, i) => {
    position++;
    return {
      eventId: randomUUID(),
      organizationId: "org-1",
      streamId,
      streamType: "dispatch.order",
      streamVersion: BigInt(i + 1),
      globalPosition: position,
      transactionId: position,
      type: OrderEditedSchema.typeName,
      data: create(OrderEditedSchema, { orderId: streamId, projectId: "p-1", consignee: `v${i + 1}`, address: "a" }),
      metadata: { userId: "u-1", commandId: randomUUID(), correlationId: randomUUID(), traceparent: undefined },
      occurredAt: new Date(1_700_000_000_000 + i),
    };
  });
}

/** Dispatch's command service as a test double: every method accepts, unless a test says otherwise. */
export function dispatchService(overrides: Partial<ServiceImpl<typeof DispatchCommandService>>) {
  const accept = Object.fromEntries(DispatchCommandService.methods.map((m) => [m.localName, async () => ({})]));
  return { ...accept, ...overrides } as ServiceImpl<typeof DispatchCommandService>;
}
