import { Navigate, Route, Routes, useParams } from "react-router";
import { ActivityContainer } from "./containers/ActivityContainer";
import { OrdersBoardContainer } from "./containers/OrdersBoardContainer";
import { ProjectPickerContainer } from "./containers/ProjectPickerContainer";
import { ProjectScope } from "./containers/ProjectScope";
import { RouteSheetContainer } from "./containers/RouteSheetContainer";
import { RoutesContainer } from "./containers/RoutesContainer";
import { isModule, rememberedProject } from "./containers/rememberedProject";
import "./dispatch.css";

/** The Dispatch app: its own code-split entry under /dispatch, so it can become its own page later. */
export default function DispatchApp() {
  return (
    <Routes>
      <Route index element={<ProjectPickerContainer />} />
      <Route path="p/:projectId" element={<ProjectScope />}>
        <Route index element={<Navigate to="orders" replace />} />
        <Route path="orders" element={<OrdersBoardContainer />} />
        <Route path="routes" element={<RoutesContainer />} />
        <Route path="routes/:routeId" element={<RouteSheetContainer />} />
        <Route path="activity" element={<ActivityContainer />} />
      </Route>
      <Route path=":module" element={<ModuleEntry />} />
    </Routes>
  );
}

/** /dispatch/routes from the launcher: into the last project, or the picker first. */
function ModuleEntry() {
  const { module = "" } = useParams();
  if (!isModule(module)) return <Navigate to="/dispatch" replace />;
  const projectId = rememberedProject();
  return <Navigate to={projectId ? `/dispatch/p/${projectId}/${module}` : `/dispatch?next=${module}`} replace />;
}
