import { RpcError } from "@sluice/rpc";

/**
 * Every business rule Dispatch enforces, by its stable id. Clients match on the id (carried in the
 * RuleViolation detail), people read the sentence.
 */
export const rules = {
  projectMismatch: "dispatch.project_mismatch",
  orderCancelled: "dispatch.order.cancelled",
  orderDelivered: "dispatch.order.delivered",
  orderPersonalDataErased: "dispatch.order.personal_data_erased",
  orderOnDispatchedRoute: "dispatch.order.on_dispatched_route",
  orderAlreadyOnRoute: "dispatch.order.already_on_route",
  orderNotOnRoute: "dispatch.order.not_on_route",
  routeNotPlanning: "dispatch.route.not_planning",
  routeOverCapacity: "dispatch.route.over_capacity",
  routeReorderMismatch: "dispatch.route.reorder_mismatch",
  routeEmpty: "dispatch.route.empty",
  routeNotDispatched: "dispatch.route.not_dispatched",
  alreadyExists: "dispatch.already_exists",
} as const;

export type RuleId = (typeof rules)[keyof typeof rules];

export function ruleBroken(rule: RuleId, sentence: string): RpcError {
  return RpcError.ruleBroken(rule, sentence);
}

/** `expected_version`, when the caller sent one, must be the version the stream is at now. */
export function assertExpectedVersion(streamId: string, expected: bigint | undefined, actual: bigint): void {
  if (expected !== undefined && expected !== actual) throw RpcError.conflict(streamId, String(expected), actual);
}

/** Weights are doubles; compare loads with a tolerance so 0.1 + 0.2 fits a 0.3 kg capacity. */
export function exceedsCapacity(loadKg: number, capacityKg: number): boolean {
  return loadKg - capacityKg > 1e-9;
}

export function formatKg(kg: number): string {
  return `${Number(kg.toFixed(3))} kg`;
}
