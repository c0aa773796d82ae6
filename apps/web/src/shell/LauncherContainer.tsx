import { useNavigate } from "react-router";
import { useAppSelector } from "../app/hooks";
import { appsFor } from "./apps";
import { LauncherView } from "./LauncherView";

export function LauncherContainer() {
  const navigate = useNavigate();
  const name = useAppSelector((state) => state.session.user?.displayName ?? "");
  const role = useAppSelector((state) => state.session.user?.role ?? "viewer");
  return (
    <LauncherView firstName={name.split(" ")[0] ?? name} apps={appsFor(role)} onNavigate={(href) => navigate(href)} />
  );
}
