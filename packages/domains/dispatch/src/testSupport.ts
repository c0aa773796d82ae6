// Helpers shared by this package's tests: fold events into states, and match typed errors.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { isMessage } from "@bufbuild/protobuf";
import { ErrorCode, RuleViolationSchema } from "@sluice/contracts/gen/sluice/v1/errors_pb";
import { Role } from "@sluice/contracts";
import { RpcError, type CallContext } from "@sluice/rpc";
import type { DispatchEvent } from "./events";

export function fold<S>(
  evolve: (state: S, event: DispatchEvent) => S,
  initial: S,
  events: readonly DispatchEvent[],
): S {
  return events.reduce(evolve, initial);
}

/** The rule id carried by a FAILED_PRECONDITION error, or undefined. */
export function ruleOf(error: unknown): string | undefined {
  if (!(error instanceof RpcError) || error.code !== ErrorCode.FAILED_PRECONDITION) return undefined;
  for (const detail of error.details) if (isMessage(detail, RuleViolationSchema)) return detail.rule;
  return undefined;
}

export function assertRuleBroken(run: () => unknown, rule: string): void {
  assert.throws(run, (error: unknown) => {
    assert.equal(ruleOf(error), rule, `expected rule ${rule}, got ${String(error)}`);
    return true;
  });
}

export async function rejectsWithCode(promise: Promise<unknown>, code: ErrorCode, rule?: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof RpcError, `expected an RpcError, got ${String(error)}`);
    assert.equal(error.code, code, `expected ${ErrorCode[code]}, got ${ErrorCode[error.code]}: ${error.message}`);
    if (rule !== undefined) assert.equal(ruleOf(error), rule);
    return true;
  });
}

export function assertThrowsCode(run: () => unknown, code: ErrorCode): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof RpcError, `expected an RpcError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  });
}

export const typesOf = (events: readonly DispatchEvent[]): string[] =>
  events.map((event) => event.$typeName.slice("dispatch.v1.".length));

/** A call context as the gateway builds it for a dispatcher (or `role`) of `organizationId`. */
export function callContext(
  organizationId: string,
  options: { commandId?: string; userId?: string; role?: Role } = {},
): CallContext {
  return {
    session: {
      sessionId: randomUUID(),
      userId: options.userId ?? "user-ana",
      displayName: "Ana",
      organizationId,
      role: options.role ?? Role.DISPATCHER,
      expiresAt: Date.now() + 60_000,
    },
    commandId: options.commandId ?? randomUUID(),
    correlationId: randomUUID(),
    traceparent: undefined,
    signal: new AbortController().signal,
  };
}
