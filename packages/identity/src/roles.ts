import { Role } from "@sluice/contracts";

/** The lowercase names stored in `memberships.role` and carried in tokens, lowest first. */
export const roleNames = ["viewer", "dispatcher", "admin", "owner"] as const;
export type RoleName = (typeof roleNames)[number];

const byName: Record<RoleName, Role> = {
  viewer: Role.VIEWER,
  dispatcher: Role.DISPATCHER,
  admin: Role.ADMIN,
  owner: Role.OWNER,
};

export function roleFromName(name: string): Role | undefined {
  return Object.hasOwn(byName, name) ? byName[name as RoleName] : undefined;
}

export function roleName(role: Role): RoleName {
  const name = roleNames.find((candidate) => byName[candidate] === role);
  if (!name) throw new Error(`role ${role} has no name: unspecified roles are never stored`);
  return name;
}

/** owner > admin > dispatcher > viewer. */
export function outranks(role: RoleName, other: RoleName): boolean {
  return roleNames.indexOf(role) > roleNames.indexOf(other);
}
