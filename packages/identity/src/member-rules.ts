import type { RpcError } from "@sluice/rpc";
import { failedPrecondition, permissionDenied } from "./errors";
import { outranks, type RoleName } from "./roles";

// The rules of who may change whom, as pure functions: each answers the refusal, or undefined.

export function mayManageMembers(actorRole: RoleName): boolean {
  return actorRole === "owner" || actorRole === "admin";
}

/** Inviting someone with `role`. */
export function invitationRefusal(actorRole: RoleName, role: RoleName): RpcError | undefined {
  if (!mayManageMembers(actorRole)) return permissionDenied("only owners and admins invite members");
  if (role === "owner" && actorRole !== "owner") return permissionDenied("only an owner can invite an owner");
  return undefined;
}

export interface RoleChange {
  readonly actorId: string;
  readonly actorRole: RoleName;
  readonly targetId: string;
  readonly targetRole: RoleName;
  readonly newRole: RoleName;
}

export function roleChangeRefusal(change: RoleChange): RpcError | undefined {
  if (!mayManageMembers(change.actorRole)) return permissionDenied("only owners and admins change roles");
  if (change.actorId === change.targetId) return permissionDenied("nobody changes their own role");
  if (change.actorRole !== "owner" && (change.targetRole === "owner" || change.newRole === "owner")) {
    return permissionDenied("only an owner can grant or take away the owner role");
  }
  return undefined;
}

export interface Removal {
  readonly actorId: string;
  readonly actorRole: RoleName;
  readonly targetId: string;
  readonly targetRole: RoleName;
  /** Owners of the organization now, the target included. */
  readonly ownerCount: number;
}

/** Removing a member; removing yourself is leaving, allowed to owners and admins like any removal. */
export function removalRefusal(removal: Removal): RpcError | undefined {
  if (!mayManageMembers(removal.actorRole)) return permissionDenied("only owners and admins remove members");
  if (outranks(removal.targetRole, removal.actorRole)) {
    return permissionDenied("only an owner can remove an owner");
  }
  if (removal.targetRole === "owner" && removal.ownerCount <= 1) {
    return failedPrecondition("an organization keeps at least one owner");
  }
  return undefined;
}
