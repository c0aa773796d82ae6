import { Role, methodPolicy, roleAllows } from "@sluice/contracts";
import { DispatchCommandService } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { DispatchQueryService } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import type { DescService } from "@bufbuild/protobuf";
import type { RoleName } from "@sluice/identity";

// What each role may do, as the Settings app shows and offers it. The server decides every
// request on its own; these rules only keep the screens from offering what it would refuse.

/** Highest first, as the contract ranks them. */
export const rolesHighestFirst: readonly RoleName[] = ["owner", "admin", "dispatcher", "viewer"];

/** The contracts' Role of each name (the policies in the .proto files speak Role). */
export const roleOf: Record<RoleName, Role> = {
  viewer: Role.VIEWER,
  dispatcher: Role.DISPATCHER,
  admin: Role.ADMIN,
  owner: Role.OWNER,
};

export const roleLabels: Record<RoleName, string> = {
  owner: "Owner",
  admin: "Admin",
  dispatcher: "Dispatcher",
  viewer: "Viewer",
};

export const roleSummaries: Record<RoleName, string> = {
  owner: "Runs the organization: everything an admin does, and makes or replaces owners.",
  admin: "Manages people: invites them, changes their roles (up to admin) and removes them.",
  dispatcher: "Plans the work: creates and changes projects, orders and routes.",
  viewer: "Follows the work: sees projects, orders, routes and activity, changes nothing.",
};

export function roleAtLeast(held: RoleName, required: RoleName): boolean {
  return roleAllows(roleOf[held], roleOf[required]);
}

/** Invitations, role changes and removals are for owners and admins. */
export function mayManageMembers(actor: RoleName): boolean {
  return roleAtLeast(actor, "admin");
}

/** The roles an actor may give: an admin cannot grant owner. */
export function assignableRoles(actor: RoleName): readonly RoleName[] {
  if (!mayManageMembers(actor)) return [];
  return actor === "owner" ? rolesHighestFirst : rolesHighestFirst.filter((role) => role !== "owner");
}

export interface MemberRef {
  userId: string;
  role: RoleName;
}

/**
 * Whether the actor may change this member's role or remove them: nobody changes themselves, an
 * admin cannot touch an owner, and the last owner stays (an organization always keeps one).
 */
export function mayChangeMember(
  actor: { userId: string; role: RoleName },
  member: MemberRef,
  members: readonly MemberRef[],
): boolean {
  if (!mayManageMembers(actor.role) || member.userId === actor.userId) return false;
  if (member.role !== "owner") return true;
  return actor.role === "owner" && members.filter((other) => other.role === "owner").length > 1;
}

/** The lowest role the contracts' policies let call every method of a service (or those named). */
function roleForService(service: DescService, methodNames?: readonly string[]): RoleName {
  const methods = methodNames ? service.methods.filter((method) => methodNames.includes(method.name)) : service.methods;
  if (methodNames && methods.length !== methodNames.length)
    throw new Error(`${service.typeName} lacks a method of ${methodNames.join(", ")}`);
  const required = methods.map((method) => methodPolicy(method)?.minRole ?? Role.OWNER);
  return (
    [...rolesHighestFirst].reverse().find((role) => required.every((min) => roleAllows(roleOf[role], min))) ?? "owner"
  );
}

export interface Capability {
  /** What it lets people do, in plain words. */
  label: string;
  /** The lowest role that may. */
  minimum: RoleName;
}

/** Dispatch's everyday commands: all but erasing personal data, which is an administrator's. */
const dispatchWork = DispatchCommandService.methods
  .map((method) => method.name)
  .filter((name) => name !== "EraseOrderPersonalData");

/** The roles page's rows. The Dispatch rows come from the method policies in the .proto files. */
export const capabilities: readonly Capability[] = [
  { label: "See projects, orders, routes and activity", minimum: roleForService(DispatchQueryService) },
  {
    label: "Create and change projects, orders and routes",
    minimum: roleForService(DispatchCommandService, dispatchWork),
  },
  {
    label: "Erase an order's personal data (consignee and address), for good",
    minimum: roleForService(DispatchCommandService, ["EraseOrderPersonalData"]),
  },
  { label: "See who is in the organization", minimum: "viewer" },
  { label: "Manage their own sessions and password", minimum: "viewer" },
  { label: "Invite people, change roles up to admin, remove members", minimum: "admin" },
  { label: "Make someone an owner, change or remove an owner", minimum: "owner" },
];
