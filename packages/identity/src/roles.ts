import { Role } from "@sluice/contracts";

/** The lowercase names stored in `users.role` and carried in tokens: "viewer", "dispatcher", ... */
export type RoleName = "viewer" | "dispatcher" | "admin" | "owner";

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
  const name = (Object.keys(byName) as RoleName[]).find((candidate) => byName[candidate] === role);
  if (!name) throw new Error(`role ${role} has no name: unspecified roles are never stored`);
  return name;
}
