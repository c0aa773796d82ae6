// The contracts, as TypeScript: every service and message generated from proto/, one registry
// to resolve them by name (Any payloads, JSON mapping), and each method's declared policy.
import {
  createRegistry,
  getOption,
  type DescField,
  type DescMessage,
  type DescMethod,
  type DescService,
  type Message,
} from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import { file_dispatch_v1_commands, DispatchCommandService } from "./gen/dispatch/v1/commands_pb";
import { file_dispatch_v1_events } from "./gen/dispatch/v1/events_pb";
import { file_dispatch_v1_queries, DispatchQueryService } from "./gen/dispatch/v1/queries_pb";
import { file_sluice_v1_envelope } from "./gen/sluice/v1/envelope_pb";
import { file_sluice_v1_errors } from "./gen/sluice/v1/errors_pb";
import { MethodKind, Role, aggregate_id, policy, type MethodPolicy } from "./gen/sluice/v1/options_pb";

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

const aggregateFields = new Map<string, DescField | undefined>();

/** The request's field declared `(sluice.v1.aggregate_id)`, if its message declares one. */
function aggregateField(schema: DescMessage): DescField | undefined {
  if (!aggregateFields.has(schema.typeName)) {
    const field = schema.fields.find((f) => f.fieldKind === "scalar" && getOption(f, aggregate_id));
    aggregateFields.set(schema.typeName, field);
  }
  return aggregateFields.get(schema.typeName);
}

/**
 * The id of the aggregate a command targets, read from the field its request message declares
 * `(sluice.v1.aggregate_id)` on; undefined for a command that creates its aggregate (or an empty id).
 * The command bus keys commands by it, so one aggregate's commands stay in order.
 */
export function aggregateIdOf(schema: DescMessage, request: Message): string | undefined {
  const field = aggregateField(schema);
  if (!field) return undefined;
  const value = reflect(schema, request).get(field);
  return typeof value === "string" && value !== "" ? value : undefined;
}
