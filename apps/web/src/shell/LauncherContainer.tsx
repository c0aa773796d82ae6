import { useNavigate } from "react-router";
import { useAppSelector } from "../app/hooks";
import { apps } from "./apps";
import { LauncherView } from "./LauncherView";

export function LauncherContainer() {
  const navigate = useNavigate();
  const name = useAppSelector((state) => state.session.user?.displayName ?? "");
  return <LauncherView firstName={name.split(" ")[0] ?? name} apps={apps} onNavigate={(href) => navigate(href)} />;
}
