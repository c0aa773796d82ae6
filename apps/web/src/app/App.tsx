import { lazy, Suspense } from "react";
import { Route, Routes } from "react-router";
import { EmptyState } from "@sluice/design-system";
import { AcceptInvitationContainer } from "../session/AcceptInvitationContainer";
import { RequireSession } from "../session/RequireSession";
import { SignInContainer } from "../session/SignInContainer";
import { LauncherContainer } from "../shell/LauncherContainer";
import { ShellContainer } from "../shell/ShellContainer";

// Each app is its own chunk, loaded when first opened: the seam along which the SPA can become pages.
const DispatchApp = lazy(() => import("../dispatch/DispatchApp"));
const SettingsApp = lazy(() => import("../settings/SettingsApp"));
const DesignSystemGallery = lazy(() => import("../gallery/DesignSystemGallery"));

export function App() {
  return (
    <Routes>
      <Route path="/signin" element={<SignInContainer />} />
      <Route path="/accept-invitation" element={<AcceptInvitationContainer />} />
      <Route
        path="/design-system"
        element={
          <Suspense fallback={<EmptyState icon="palette" title="Loading…" />}>
            <DesignSystemGallery />
          </Suspense>
        }
      />
      <Route element={<RequireSession />}>
        <Route element={<ShellContainer />}>
          <Route index element={<LauncherContainer />} />
          <Route path="/dispatch/*" element={<DispatchApp />} />
          <Route path="/settings/*" element={<SettingsApp />} />
          <Route
            path="*"
            element={<EmptyState icon="alert" title="Page not found" description="The launcher has every app." />}
          />
        </Route>
      </Route>
    </Routes>
  );
}
