import { RolesView } from "../views/RolesView";
import { useActor } from "./state";

export function RolesContainer() {
  return <RolesView role={useActor().role} />;
}
