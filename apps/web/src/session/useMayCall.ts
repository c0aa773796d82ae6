import type { DescMethod } from "@bufbuild/protobuf";
import { methodPolicy, roleAllows } from "@sluice/contracts";
import { useAppSelector } from "../app/hooks";
import { roleOf } from "../settings/roles";

/**
 * Whether the signed-in user's role meets the policy the .proto declares for a method, so views
 * offer only what the server would accept. The server still checks every call.
 */
export function useMayCall(method: DescMethod): boolean {
  const role = useAppSelector((state) => state.session.user?.role);
  const policy = methodPolicy(method);
  return role !== undefined && policy !== undefined && roleAllows(roleOf[role], policy.minRole);
}
