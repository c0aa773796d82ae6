// For this folder's tests only: a fresh set of topic names per test, a caller and its commands,
// and waiting on a condition.
import { randomBytes, randomUUID } from "node:crypto";
import type { Message } from "@bufbuild/protobuf";
import { Role, methodName } from "@sluice/contracts";
import { DispatchCommandService } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import type { Session } from "@sluice/rpc";
import type { CommandEnvelope } from "../command-bus";
import { deleteTopics } from "@sluice/kafka";
import { kafkaTestConnection } from "@sluice/kafka/testing";
import { commandsTopic, eventsTopic, type KafkaBusOptions } from "./topics";

/** Options naming topics and groups no other test uses; `cleanUp` deletes the topics after. */
export function freshBusOptions(partitions = 4): KafkaBusOptions & { cleanUp(): Promise<void> } {
  const options = {
    connection: kafkaTestConnection,
    contexts: ["dispatch"],
    topicPrefix: `test-${randomBytes(5).toString("hex")}.`,
    partitions,
  };
  return {
    ...options,
    cleanUp: () =>
      deleteTopics(kafkaTestConnection, [eventsTopic(options, "dispatch"), commandsTopic(options, "dispatch")]).catch(
        () => undefined,
      ),
  };
}

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
