import { createSlice, type PayloadAction } from "@reduxjs/toolkit";
import type { PublicationPayload } from "@sluice/client-sdk/redux";
import type { RouteSheetJson, StopViewJson } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import type {
  StopAddedJson,
  StopRemovedJson,
  StopsReorderedJson,
  StopWeightChangedJson,
} from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { num } from "../format";
import {
  addLiveViewCases,
  idleLiveView,
  liveViewFailed,
  liveViewLoaded,
  liveViewRequested,
  type LiveView,
} from "./liveView";
import { projectChannel, routeChannel, sequence, streamVersionOf } from "./publication";

/** The open route sheet: the query's answer, kept live by the route's events. */
export interface RouteSheetState extends LiveView {
  routeId: string | null;
  sheet: RouteSheetJson | null;
  notFound: boolean;
}

const initialState: RouteSheetState = { routeId: null, sheet: null, notFound: false, ...idleLiveView };

function fold(state: RouteSheetState, publication: PublicationPayload): void {
  const sheet = state.sheet;
  const route = sheet?.route;
  if (!sheet || !route || publication.metadata?.streamId !== `route-${state.routeId}`) return;
  const position = sequence(route.version, publication);
  if (position === "included") return;
  if (position === "gap") {
    state.stale = true;
    return;
  }
  route.version = streamVersionOf(publication);
  const stops = (sheet.stops ??= []);
  switch (publication.type) {
    case "dispatch.v1.StopAdded": {
      const event = publication.event as StopAddedJson;
      // The event carries the order and its weight; the consignee and address come from the order
      // board when the view is selected (selectRouteSheet), as the event does not repeat them.
      const stop: StopViewJson = { orderId: event.orderId, weightKg: event.weightKg };
      stops.splice(Math.min(event.position ?? stops.length, stops.length), 0, stop);
      break;
    }
    case "dispatch.v1.StopRemoved": {
      const { orderId } = publication.event as StopRemovedJson;
      sheet.stops = stops.filter((stop) => stop.orderId !== orderId);
      break;
    }
    case "dispatch.v1.StopsReordered": {
      const { orderIds = [] } = publication.event as StopsReorderedJson;
      const byId = new Map(stops.map((stop) => [stop.orderId, stop]));
      sheet.stops = orderIds.flatMap((id) => byId.get(id) ?? []);
      break;
    }
    case "dispatch.v1.StopWeightChanged": {
      const event = publication.event as StopWeightChangedJson;
      const stop = stops.find((candidate) => candidate.orderId === event.orderId);
      if (stop) stop.weightKg = event.weightKg;
      break;
    }
    case "dispatch.v1.RouteDispatched":
      route.status = "ROUTE_STATUS_DISPATCHED";
      break;
    case "dispatch.v1.RouteCompleted":
      route.status = "ROUTE_STATUS_COMPLETED";
      break;
  }
  route.stopCount = sheet.stops?.length ?? 0;
  route.loadKg = (sheet.stops ?? []).reduce((sum, stop) => sum + num(stop.weightKg), 0);
}

const ours = (state: RouteSheetState, channel: string) =>
  state.routeId !== null &&
  (channel === routeChannel(state.routeId) ||
    (state.sheet?.route?.projectId !== undefined && channel === projectChannel(state.sheet.route.projectId)));

export const routeSheetSlice = createSlice({
  name: "routeSheet",
  initialState,
  reducers: {
    routeSheetRequested(state, { payload }: PayloadAction<{ routeId: string }>) {
      const otherView = state.routeId !== payload.routeId;
      if (otherView) state.sheet = null;
      state.routeId = payload.routeId;
      state.notFound = false;
      liveViewRequested(state, otherView);
    },
    routeSheetLoaded(state, { payload }: PayloadAction<RouteSheetJson>) {
      if (payload.route?.routeId !== state.routeId) return;
      // An answer older than what publications already brought is dropped (projections lag).
      if (!state.sheet || Number(state.sheet.route?.version ?? 0) <= Number(payload.route?.version ?? 0))
        state.sheet = payload;
      liveViewLoaded(state, fold);
    },
    routeSheetFailed(state, { payload }: PayloadAction<{ routeId: string; notFound: boolean }>) {
      if (payload.routeId !== state.routeId) return;
      state.notFound = payload.notFound;
      liveViewFailed(state);
    },
  },
  extraReducers: (builder) =>
    addLiveViewCases(builder, {
      channel: (state) => (state.routeId ? routeChannel(state.routeId) : null),
      ours,
      fold,
    }),
});

export const { routeSheetRequested, routeSheetLoaded, routeSheetFailed } = routeSheetSlice.actions;
