import type { RoleName } from "@sluice/identity";
import type { LauncherModule } from "@sluice/design-system";
import { mayManageMembers } from "./roles";

export type SettingsModule = "members" | "invitations" | "roles" | "sessions" | "password";

/** The Settings app's modules, for the launcher, the taskbar and the app's tabs. */
export const settingsModules: ReadonlyArray<LauncherModule & { id: SettingsModule }> = [
  {
    id: "members",
    name: "Members",
    description: "Who is in your organization, and their roles.",
    href: "/settings/members",
    icon: "users",
  },
  {
    id: "invitations",
    name: "Invitations",
    description: "Invite people by email with a role; take an invitation back.",
    href: "/settings/invitations",
    icon: "mail",
  },
  {
    id: "roles",
    name: "Roles",
    description: "What each role may do.",
    href: "/settings/roles",
    icon: "shield",
  },
  {
    id: "sessions",
    name: "Sessions",
    description: "The devices signed in as you; sign one out.",
    href: "/settings/sessions",
    icon: "monitor",
  },
  {
    id: "password",
    name: "Password",
    description: "Change your password.",
    href: "/settings/password",
    icon: "key",
  },
];

/** Invitations are for owners and admins; everyone has the rest. */
export function mayOpen(module: SettingsModule, role: RoleName): boolean {
  return module !== "invitations" || mayManageMembers(role);
}
