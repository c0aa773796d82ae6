import { useEffect } from "react";
import { Navigate, Outlet, useLocation } from "react-router";
import { EmptyState } from "@sluice/design-system";
import { useAppDispatch, useAppSelector } from "../app/hooks";
import { useClient } from "../app/clientContext";
import { currentSession } from "./authApi";
import { signedIn, signedOut } from "./sessionSlice";

/** Asks once whether the cookie still holds a session; signed-in routes render only with one. */
export function RequireSession() {
  const dispatch = useAppDispatch();
  const client = useClient();
  const location = useLocation();
  const status = useAppSelector((state) => state.session.status);

  useEffect(() => {
    if (status !== "unknown") return;
    currentSession().then(
      (user) => {
        if (!user) return dispatch(signedOut(null));
        dispatch(signedIn(user));
        client.reconnect();
      },
      () =>
        dispatch(signedOut({ kind: "unreachable", code: "UNAVAILABLE", message: "The server could not be reached." })),
    );
  }, [dispatch, client, status]);

  if (status === "unknown") return <EmptyState icon="grid" title="Loading…" />;
  if (status !== "signedIn")
    return <Navigate to="/signin" replace state={{ from: location.pathname + location.search }} />;
  return <Outlet />;
}
