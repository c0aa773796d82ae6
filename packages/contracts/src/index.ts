// The contracts, as TypeScript: every service and message generated from proto/, one registry
// to resolve them by name (Any payloads, JSON mapping), and each method's declared policy.
import { createRegistry, getOption, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { file_dispatch_v1_commands, DispatchCommandService } from "./gen/dispatch/v1/commands_pb";
import { file_dispatch_v1_events } from "./gen/dispatch/v1/events_pb";
import { file_dispatch_v1_queries, DispatchQueryService } from "./gen/dispatch/v1/queries_pb";
import { file_sluice_v1_envelope } from "./gen/sluice/v1/envelope_pb";
import { file_sluice_v1_errors } from "./gen/sluice/v1/errors_pb";
import { MethodKind, Role, policy, type MethodPolicy } from "./gen/sluice/v1/options_pb";

export { MethodKind, Role, type MethodPolicy };

/** Every service a Sluice node can serve. A new bounded context adds its services here. */
export const services: readonly DescService[] = [DispatchCommandService, DispatchQueryService];

/** Resolves every message of the contracts by type name: for Any, and for the JSON mapping. */
export const registry = createRegistry(
  file_sluice_v1_envelope,
  file_sluice_v1_errors,
  file_dispatch_v1_commands,
  file_dispatch_v1_queries,
  file_dispatch_v1_events,
);

/** "dispatch.v1.DispatchCommandService/CreateOrder": the name a Call frame carries. */
export function methodName(method: DescMethod): string {
  return `${method.parent.typeName}/${method.name}`;
}

const methodsByName = new Map<string, DescMethod>(
  services.flatMap((service) => service.methods.map((method) => [methodName(method), method] as const)),
);

export function findMethod(name: string): DescMethod | undefined {
  return methodsByName.get(name);
}

/** The policy declared beside the method in its .proto; a method without one is callable by nobody. */
export function methodPolicy(method: DescMethod): MethodPolicy | undefined {
  const declared = getOption(method, policy);
  return declared.kind === MethodKind.UNSPECIFIED || declared.minRole === Role.UNSPECIFIED ? undefined : declared;
}

const roleRank: Record<Role, number> = {
  [Role.UNSPECIFIED]: 0,
  [Role.VIEWER]: 1,
  [Role.DISPATCHER]: 2,
  [Role.ADMIN]: 3,
  [Role.OWNER]: 4,
};

/** Roles are ordered: an owner may do what an admin may, an admin what a dispatcher may, and so on. */
export function roleAllows(held: Role, required: Role): boolean {
  return required !== Role.UNSPECIFIED && roleRank[held] >= roleRank[required];
}
