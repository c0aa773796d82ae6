import { useEffect } from "react";
import { useParams } from "react-router";
import type { SluiceCallAction } from "@sluice/client-sdk/redux";
import { EmptyState, moveItem } from "@sluice/design-system";
import { DispatchCommandService } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { useAppDispatch, useAppSelector } from "../../app/hooks";
import { useMayCall } from "../../session/useMayCall";
import { useChannel } from "../../app/useChannel";
import { loadOrderBoard, loadRouteSheet } from "../state/loaders";
import { formatKg } from "../format";
import { routeChannel } from "../state/publication";
import { selectCandidates, selectRouteSheet, selectRouteViewers } from "../state/selectors";
import { RouteSheetView } from "../views/RouteSheetView";
import { commands } from "./commands";
import { ProjectPage, useProjectId } from "./ProjectScope";

/** One route, live on its channel with presence: everyone planning it sees each other and each change. */
export function RouteSheetContainer() {
  const projectId = useProjectId();
  const { routeId = "" } = useParams();
  const dispatch = useAppDispatch();
  useChannel(routeChannel(routeId), { presence: true });
  useEffect(() => {
    void loadRouteSheet(dispatch, routeId);
    void loadOrderBoard(dispatch, projectId);
  }, [dispatch, routeId, projectId]);

  const sheet = useAppSelector(selectRouteSheet);
  const mayPlan = useMayCall(DispatchCommandService.method.assignOrder);
  const notFound = useAppSelector((state) => state.routeSheet.notFound);
  const candidates = useAppSelector((state) => selectCandidates(state, routeId));
  const viewers = useAppSelector((state) => selectRouteViewers(state, routeId));
  const current = sheet?.route?.routeId === routeId ? sheet : null;
  const expectedVersion = current?.route?.version;

  // Swallow the rejection here: the listener already turned it into a toast.
  const send = (action: SluiceCallAction<unknown, unknown>) => void dispatch(action).catch(() => undefined);

  return (
    <ProjectPage
      module="routes"
      title={current?.route?.name ?? "Route"}
      subtitle={current ? `Vehicle capacity ${formatKg(current.route?.vehicleCapacityKg)}` : undefined}
    >
      {current ? (
        <RouteSheetView
          sheet={current}
          readOnly={!mayPlan}
          candidates={candidates}
          viewers={viewers}
          onAssign={(orderId, position) => send(commands.assignOrder({ routeId, orderId, position, expectedVersion }))}
          onMove={(orderId, toIndex) => {
            const ids = (current.stops ?? []).map((stop) => stop.orderId ?? "");
            const orderIds = moveItem(ids, ids.indexOf(orderId), toIndex);
            send(commands.reorderStops({ routeId, orderIds, expectedVersion }));
          }}
          onRemove={(orderId) => send(commands.unassignOrder({ routeId, orderId, expectedVersion }))}
          onDispatch={() => send(commands.dispatchRoute({ routeId, expectedVersion }))}
          onComplete={() => send(commands.completeRoute({ routeId }))}
        />
      ) : notFound ? (
        <EmptyState
          icon="route"
          title="Route not found"
          description="It may have been removed, or the link is wrong."
        />
      ) : (
        <EmptyState icon="route" title="Loading route…" />
      )}
    </ProjectPage>
  );
}
