import type { ReactNode } from "react";
import { Navigate, Outlet, Route, Routes, useLocation, useNavigate } from "react-router";
import { EmptyState, NavTabs } from "@sluice/design-system";
import { useAppSelector } from "../app/hooks";
import { InvitationsContainer } from "./containers/InvitationsContainer";
import { MembersContainer } from "./containers/MembersContainer";
import { PasswordContainer } from "./containers/PasswordContainer";
import { RolesContainer } from "./containers/RolesContainer";
import { SessionsContainer } from "./containers/SessionsContainer";
import { useActor } from "./containers/state";
import { mayOpen, settingsModules, type SettingsModule } from "./modules";
import "./settings.css";

/** The Settings app: its own code-split entry under /settings, like Dispatch. */
export default function SettingsApp() {
  return (
    <Routes>
      <Route element={<SettingsPage />}>
        <Route index element={<Navigate to="members" replace />} />
        <Route path="members" element={<MembersContainer />} />
        <Route
          path="invitations"
          element={
            <OnlyFor module="invitations">
              <InvitationsContainer />
            </OnlyFor>
          }
        />
        <Route path="roles" element={<RolesContainer />} />
        <Route path="sessions" element={<SessionsContainer />} />
        <Route path="password" element={<PasswordContainer />} />
        <Route path="*" element={<Navigate to="members" replace />} />
      </Route>
    </Routes>
  );
}

/** The frame of every Settings page: the title, the organization, the modules the role may open. */
function SettingsPage() {
  const navigate = useNavigate();
  const { pathname } = useLocation();
  const { role } = useActor();
  const organization = useAppSelector((state) => state.session.user?.organizationName ?? "");
  const current = pathname.split("/").filter(Boolean)[1];
  return (
    <div className="sl-page">
      <div className="sl-page__header">
        <div>
          <h1 className="sl-page__title">Settings</h1>
          <div className="sl-page__subtitle">{organization}</div>
        </div>
      </div>
      <NavTabs
        label="Settings modules"
        current={current}
        tabs={settingsModules
          .filter((module) => mayOpen(module.id, role))
          .map((module) => ({ id: module.id, label: module.name, href: module.href }))}
        onNavigate={(href) => navigate(href)}
      />
      <Outlet />
    </div>
  );
}

function OnlyFor({ module, children }: { module: SettingsModule; children: ReactNode }) {
  const { role } = useActor();
  if (mayOpen(module, role)) return <>{children}</>;
  return (
    <EmptyState
      icon="shield"
      title="Only owners and admins see this"
      description="Ask an owner or admin of your organization."
    />
  );
}
