import { createSlice, type PayloadAction } from "@reduxjs/toolkit";
import type { PublicationPayload } from "@sluice/client-sdk/redux";
import type { RouteListJson, RouteSummaryJson } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import type { RouteCreatedJson, StopAddedJson } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { num } from "../format";
import {
  addLiveViewCases,
  idleLiveView,
  liveViewFailed,
  liveViewLoaded,
  liveViewRequested,
  mergeByVersion,
  type LiveView,
} from "./liveView";
import { projectChannel, sequence, streamVersionOf } from "./publication";

/** The open project's routes with their load, kept live by the project channel. */
export interface RoutesState extends LiveView {
  projectId: string | null;
  routes: Record<string, RouteSummaryJson>;
  /** Keeps the order the query gave (oldest first), new routes appended. */
  order: string[];
}

const initialState: RoutesState = { projectId: null, routes: {}, order: [], ...idleLiveView };

function fold(state: RoutesState, publication: PublicationPayload): void {
  if (publication.type === "dispatch.v1.RouteCreated") {
    const event = publication.event as RouteCreatedJson;
    const id = event.routeId ?? "";
    if (state.routes[id]) return;
    state.routes[id] = {
      routeId: id,
      projectId: event.projectId,
      name: event.name,
      vehicleCapacityKg: event.vehicleCapacityKg,
      loadKg: 0,
      stopCount: 0,
      status: "ROUTE_STATUS_PLANNING",
      version: streamVersionOf(publication),
    };
    state.order.push(id);
    return;
  }
  if (!publication.metadata?.streamId?.startsWith("route-")) return;
  const route = state.routes[(publication.event as { routeId?: string }).routeId ?? ""];
  if (!route) return;
  const position = sequence(route.version, publication);
  if (position === "included") return;
  // A removed stop's weight is not in its event, and the list keeps no stops: the query knows.
  if (
    position === "gap" ||
    publication.type === "dispatch.v1.StopRemoved" ||
    publication.type === "dispatch.v1.StopWeightChanged"
  ) {
    state.stale = true;
    return;
  }
  route.version = streamVersionOf(publication);
  switch (publication.type) {
    case "dispatch.v1.StopAdded":
      route.stopCount = (route.stopCount ?? 0) + 1;
      route.loadKg = num(route.loadKg) + num((publication.event as StopAddedJson).weightKg);
      return;
    case "dispatch.v1.RouteDispatched":
      route.status = "ROUTE_STATUS_DISPATCHED";
      return;
    case "dispatch.v1.RouteCompleted":
      route.status = "ROUTE_STATUS_COMPLETED";
      return;
  }
}

export const routesSlice = createSlice({
  name: "routes",
  initialState,
  reducers: {
    routesRequested(state, { payload }: PayloadAction<{ projectId: string }>) {
      const otherView = state.projectId !== payload.projectId;
      if (otherView) {
        state.routes = {};
        state.order = [];
      }
      state.projectId = payload.projectId;
      liveViewRequested(state, otherView);
    },
    routesLoaded(state, { payload }: PayloadAction<{ projectId: string; list: RouteListJson }>) {
      if (payload.projectId !== state.projectId) return;
      const routes = payload.list.routes ?? [];
      mergeByVersion(state.routes, routes, (route) => route.routeId);
      state.order = [
        ...routes.map((route) => route.routeId ?? ""),
        ...state.order.filter((id) => !routes.some((route) => route.routeId === id)),
      ];
      liveViewLoaded(state, fold);
    },
    routesFailed: liveViewFailed,
  },
  extraReducers: (builder) =>
    addLiveViewCases(builder, {
      channel: (state) => (state.projectId ? projectChannel(state.projectId) : null),
      fold,
    }),
});

export const { routesRequested, routesLoaded, routesFailed } = routesSlice.actions;
