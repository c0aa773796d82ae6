import { Suspense, useEffect, useState } from "react";
import { Outlet, useLocation, useNavigate } from "react-router";
import { ConnectionStatus, EmptyState, Shell, Taskbar, ToastStack, type ConnectionState } from "@sluice/design-system";
import { selectConnection } from "@sluice/client-sdk/redux";
import type { ConnectionState as SocketState } from "@sluice/client-sdk";
import { useAppDispatch, useAppSelector } from "../app/hooks";
import { toastDismissed } from "../notifications/toastsSlice";
import { signOut } from "../session/authApi";
import { appsFor } from "./apps";

// The SDK's socket states, in the words people see.
const shown: Record<SocketState, ConnectionState> = {
  connecting: "connecting",
  connected: "connected",
  disconnected: "reconnecting",
  closed: "offline",
};

/** The signed-in frame: the current module above, the taskbar with the connection status below. */
export function ShellContainer() {
  const dispatch = useAppDispatch();
  const navigate = useNavigate();
  const { pathname } = useLocation();
  const user = useAppSelector((state) => state.session.user);
  const connection = useAppSelector(selectConnection);
  const toasts = useAppSelector((state) => state.toasts);

  // The taskbar holds the modules of the app open now; the launcher holds every app.
  const openApp = appsFor(user?.role ?? "viewer").find(
    (app) => pathname === `/${app.id}` || pathname.startsWith(`/${app.id}/`),
  );
  const tasks = (openApp?.modules ?? []).map((module) => ({
    id: `${openApp?.id}.${module.id}`,
    label: module.name,
    href: module.href,
    current: isCurrent(pathname, module.id),
  }));
  const retry = useRetryCountdown(connection.state === "disconnected" ? connection : null);

  return (
    <Shell
      taskbar={
        <Taskbar
          launcherHref="/"
          tasks={tasks}
          status={<ConnectionStatus state={shown[connection.state]} detail={retry} />}
          user={user ? { id: user.id, name: user.displayName, organization: user.organizationName } : undefined}
          onNavigate={(href) => navigate(href)}
          onSignOut={() => {
            // A fresh page drops the store and the socket with the session: nothing of it lingers.
            void signOut().finally(() => window.location.assign("/signin"));
          }}
        />
      }
      toasts={<ToastStack toasts={toasts} autoDismissMs={6000} onDismiss={(id) => dispatch(toastDismissed(id))} />}
    >
      <Suspense fallback={<EmptyState icon="grid" title="Loading…" />}>
        <Outlet />
      </Suspense>
    </Shell>
  );
}

function isCurrent(pathname: string, module: string): boolean {
  const rest = pathname.split("/").filter(Boolean);
  // /<app>/<module>, or Dispatch's /dispatch/p/<id>/<module>/…
  return rest[1] === module || (rest[0] === "dispatch" && rest[1] === "p" && rest[3] === module);
}

/** "retrying in 3 s", counting down to the SDK's next attempt while the socket is down. */
function useRetryCountdown(connection: { since: number | null; retryInMs: number | null } | null): string | undefined {
  const [now, setNow] = useState(() => Date.now());
  const down = connection !== null;
  useEffect(() => {
    if (!down) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [down]);
  if (!connection?.retryInMs || connection.since === null) return undefined;
  const seconds = Math.ceil((connection.since + connection.retryInMs - now) / 1000);
  return seconds > 0 ? `retrying in ${seconds} s` : "retrying now";
}
