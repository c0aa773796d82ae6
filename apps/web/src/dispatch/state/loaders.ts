import type { Dispatch } from "@reduxjs/toolkit";
import { callActions, type SluiceDispatch } from "@sluice/client-sdk/redux";
import { DispatchQueryService } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import { ErrorCode, RpcError } from "@sluice/client-sdk";
import { activityFailed, activityLoaded, activityRequested } from "./activitySlice";
import { orderBoardFailed, orderBoardLoaded, orderBoardRequested } from "./orderBoardSlice";
import { projectsFailed, projectsLoaded, projectsRequested } from "./projectsSlice";
import { routeSheetFailed, routeSheetLoaded, routeSheetRequested } from "./routeSheetSlice";
import { routesFailed, routesLoaded, routesRequested } from "./routesSlice";

/** The queries, as action creators typed from the generated service. */
export const queries = callActions(DispatchQueryService);

/** The store's dispatch with the middleware's call signature. */
export type CallDispatch = Dispatch & SluiceDispatch;

// Each loader marks its view loading (publications wait), asks the query, and hands the answer
// to the slice, which merges it by version and folds what waited. Failures reach the toasts
// through callRejected; the loaders only end the loading state.

export async function loadProjects(dispatch: CallDispatch): Promise<void> {
  dispatch(projectsRequested());
  try {
    const list = await dispatch(queries.listProjects({}));
    dispatch(projectsLoaded(list.projects ?? []));
  } catch {
    dispatch(projectsFailed());
  }
}

export async function loadOrderBoard(dispatch: CallDispatch, projectId: string): Promise<void> {
  dispatch(orderBoardRequested({ projectId }));
  try {
    dispatch(orderBoardLoaded({ ...(await dispatch(queries.getOrderBoard({ projectId }))), projectId }));
  } catch {
    dispatch(orderBoardFailed());
  }
}

export async function loadRoutes(dispatch: CallDispatch, projectId: string): Promise<void> {
  dispatch(routesRequested({ projectId }));
  try {
    dispatch(routesLoaded({ projectId, list: await dispatch(queries.listRoutes({ projectId })) }));
  } catch {
    dispatch(routesFailed());
  }
}

export async function loadRouteSheet(dispatch: CallDispatch, routeId: string): Promise<void> {
  dispatch(routeSheetRequested({ routeId }));
  try {
    dispatch(routeSheetLoaded(await dispatch(queries.getRouteSheet({ routeId }))));
  } catch (error) {
    dispatch(routeSheetFailed({ routeId, notFound: error instanceof RpcError && error.code === ErrorCode.NOT_FOUND }));
  }
}

export async function loadActivity(dispatch: CallDispatch, projectId: string): Promise<void> {
  dispatch(activityRequested({ projectId }));
  try {
    const feed = await dispatch(queries.listActivity({ projectId, limit: 50 }));
    dispatch(activityLoaded({ projectId, entries: feed.entries ?? [] }));
  } catch {
    dispatch(activityFailed());
  }
}
