import { useEffect } from "react";
import { useNavigate } from "react-router";
import { DispatchCommandService } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { useAppDispatch, useAppSelector } from "../../app/hooks";
import { useMayCall } from "../../session/useMayCall";
import { loadOrderBoard, loadRoutes } from "../state/loaders";
import { selectOrders, selectRoutes } from "../state/selectors";
import { OrdersBoardView } from "../views/OrdersBoardView";
import { commands } from "./commands";
import { ProjectPage, useProjectId } from "./ProjectScope";

export function OrdersBoardContainer() {
  const projectId = useProjectId();
  const dispatch = useAppDispatch();
  const navigate = useNavigate();
  const orders = useAppSelector(selectOrders);
  const mayChange = useMayCall(DispatchCommandService.method.createOrder);
  const routes = useAppSelector(selectRoutes);
  const loading = useAppSelector(
    (state) => state.orderBoard.loading && Object.keys(state.orderBoard.orders).length === 0,
  );
  useEffect(() => {
    void loadOrderBoard(dispatch, projectId);
    void loadRoutes(dispatch, projectId);
  }, [dispatch, projectId]);

  return (
    <ProjectPage module="orders" title="Orders board">
      <OrdersBoardView
        orders={orders}
        readOnly={!mayChange}
        routes={routes}
        loading={loading}
        routeHref={(routeId) => `/dispatch/p/${projectId}/routes/${routeId}`}
        onNavigate={(href) => navigate(href)}
        onCreate={(draft) => dispatch(commands.createOrder({ projectId, ...draft }))}
        onEdit={(order, draft) =>
          dispatch(commands.editOrder({ orderId: order.orderId, ...draft, expectedVersion: order.version }))
        }
        onCancel={(order, reason) =>
          dispatch(commands.cancelOrder({ orderId: order.orderId, reason, expectedVersion: order.version }))
        }
      />
    </ProjectPage>
  );
}
