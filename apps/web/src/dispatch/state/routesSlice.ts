import { createSlice, type PayloadAction } from "@reduxjs/toolkit";
import { sluicePublication, sluiceSubscribed, type PublicationPayload } from "@sluice/client-sdk/redux";
import type { RouteListJson, RouteSummaryJson } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import type { RouteCreatedJson, StopAddedJson } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { num } from "../format";
import { projectChannel, sequence, streamVersionOf } from "./publication";

/** The open project's routes with their load, kept live by the project channel. */
export interface RoutesState {
  projectId: string | null;
  routes: Record<string, RouteSummaryJson>;
  /** Keeps the order the query gave (oldest first), new routes appended. */
  order: string[];
  loading: boolean;
  pending: PublicationPayload[];
  stale: boolean;
}

const initialState: RoutesState = { projectId: null, routes: {}, order: [], loading: false, pending: [], stale: false };

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
      if (state.projectId !== payload.projectId) {
        state.routes = {};
        state.order = [];
        state.pending = [];
      }
      state.projectId = payload.projectId;
      state.loading = true;
      state.stale = false;
    },
    routesLoaded(state, { payload }: PayloadAction<{ projectId: string; list: RouteListJson }>) {
      if (payload.projectId !== state.projectId) return;
      const routes = payload.list.routes ?? [];
      // Merge by version: an answer may be older than publications already folded (projections lag).
      for (const route of routes) {
        const id = route.routeId ?? "";
        const held = state.routes[id];
        if (!held || Number(held.version ?? 0) <= Number(route.version ?? 0)) state.routes[id] = route;
      }
      state.order = [
        ...routes.map((route) => route.routeId ?? ""),
        ...state.order.filter((id) => !routes.some((route) => route.routeId === id)),
      ];
      state.loading = false;
      const pending = state.pending;
      state.pending = [];
      for (const publication of pending) fold(state, publication);
    },
    routesFailed(state) {
      state.loading = false;
      state.pending = [];
    },
  },
  extraReducers: (builder) =>
    builder
      .addCase(sluiceSubscribed, (state, { payload }) => {
        if (state.projectId && payload.channel === projectChannel(state.projectId) && !payload.recovered)
          state.loading = true;
      })
      .addCase(sluicePublication, (state, { payload }) => {
        if (!state.projectId || payload.channel !== projectChannel(state.projectId)) return;
        if (state.loading) state.pending.push(payload);
        else fold(state, payload);
      }),
});

export const { routesRequested, routesLoaded, routesFailed } = routesSlice.actions;
