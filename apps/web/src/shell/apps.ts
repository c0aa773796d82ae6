import type { LauncherApp } from "@sluice/design-system";
import type { RoleName } from "@sluice/identity";
import { mayOpen, settingsModules } from "../settings/modules";

/**
 * The apps this build contains, and their modules. Only apps that exist are listed; each one is
 * its own code-split entry (see App.tsx), under `/<app id>/`.
 */
export const apps: readonly LauncherApp[] = [
  {
    id: "dispatch",
    name: "Dispatch",
    description: "Plan orders and routes together, live.",
    icon: "truck",
    modules: [
      {
        id: "orders",
        name: "Orders board",
        description: "Every order of a project: create, edit, cancel, see where each stands.",
        href: "/dispatch/orders",
        icon: "box",
      },
      {
        id: "routes",
        name: "Routes",
        description: "Vehicles' trips: stops in delivery order, load against capacity.",
        href: "/dispatch/routes",
        icon: "route",
      },
      {
        id: "activity",
        name: "Activity",
        description: "What happened in a project, and who did it.",
        href: "/dispatch/activity",
        icon: "activity",
      },
    ],
  },
  {
    id: "settings",
    name: "Settings",
    description: "Members, invitations and roles of your organization; your sessions and password.",
    icon: "sliders",
    modules: settingsModules,
  },
];

/** The apps and modules a role is offered. The server still checks every request. */
export function appsFor(role: RoleName): readonly LauncherApp[] {
  return apps.map((app) =>
    app.id === "settings" ? { ...app, modules: settingsModules.filter((module) => mayOpen(module.id, role)) } : app,
  );
}
