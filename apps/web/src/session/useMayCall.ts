import type { DescMethod } from "@bufbuild/protobuf";
import { Role, methodPolicy, roleAllows } from "@sluice/contracts";
import type { RoleName } from "@sluice/identity";
import { useAppSelector } from "../app/hooks";

const roles: Record<RoleName, Role> = {
  viewer: Role.VIEWER,
  dispatcher: Role.DISPATCHER,
  admin: Role.ADMIN,
  owner: Role.OWNER,
};

/**
 * Whether the signed-in user's role meets the policy the .proto declares for a method, so views
 * offer only what the server would accept. The server still checks every call.
 */
export function useMayCall(method: DescMethod): boolean {
  const role = useAppSelector((state) => state.session.user?.role);
  const policy = methodPolicy(method);
  return role !== undefined && policy !== undefined && roleAllows(roles[role], policy.minRole);
}
