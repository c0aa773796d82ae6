import { useEffect } from "react";
import { useNavigate } from "react-router";
import { DispatchCommandService } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { useAppDispatch, useAppSelector } from "../../app/hooks";
import { useMayCall } from "../../session/useMayCall";
import { loadRoutes } from "../state/loaders";
import { selectRoutes } from "../state/selectors";
import { RoutesView } from "../views/RoutesView";
import { commands } from "./commands";
import { ProjectPage, useProjectId } from "./ProjectScope";

export function RoutesContainer() {
  const projectId = useProjectId();
  const dispatch = useAppDispatch();
  const navigate = useNavigate();
  const routes = useAppSelector(selectRoutes);
  const mayCreate = useMayCall(DispatchCommandService.method.createRoute);
  const loading = useAppSelector((state) => state.routes.loading && state.routes.order.length === 0);
  useEffect(() => void loadRoutes(dispatch, projectId), [dispatch, projectId]);
  const routeHref = (routeId: string) => `/dispatch/p/${projectId}/routes/${routeId}`;

  return (
    <ProjectPage module="routes" title="Routes">
      <RoutesView
        routes={routes}
        readOnly={!mayCreate}
        loading={loading}
        routeHref={routeHref}
        onNavigate={(href) => navigate(href)}
        onCreate={async (draft) => {
          const created = await dispatch(commands.createRoute({ projectId, ...draft }));
          if (created.routeId) navigate(routeHref(created.routeId));
        }}
      />
    </ProjectPage>
  );
}
