import { createSlice, type PayloadAction } from "@reduxjs/toolkit";
import { sluicePublication, sluiceSubscribed, type PublicationPayload } from "@sluice/client-sdk/redux";
import type { RouteSheetJson, StopViewJson } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import type {
  StopAddedJson,
  StopRemovedJson,
  StopsReorderedJson,
  StopWeightChangedJson,
} from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { num } from "../format";
import { projectChannel, routeChannel, sequence, streamVersionOf } from "./publication";

/** The open route sheet: the query's answer, kept live by the route's events. */
export interface RouteSheetState {
  routeId: string | null;
  sheet: RouteSheetJson | null;
  loading: boolean;
  notFound: boolean;
  pending: PublicationPayload[];
  stale: boolean;
}

const initialState: RouteSheetState = {
  routeId: null,
  sheet: null,
  loading: false,
  notFound: false,
  pending: [],
  stale: false,
};

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
      if (state.routeId !== payload.routeId) {
        state.sheet = null;
        state.pending = [];
      }
      state.routeId = payload.routeId;
      state.loading = true;
      state.notFound = false;
      state.stale = false;
    },
    routeSheetLoaded(state, { payload }: PayloadAction<RouteSheetJson>) {
      if (payload.route?.routeId !== state.routeId) return;
      // An answer older than what publications already brought is dropped (projections lag).
      if (!state.sheet || Number(state.sheet.route?.version ?? 0) <= Number(payload.route?.version ?? 0))
        state.sheet = payload;
      state.loading = false;
      const pending = state.pending;
      state.pending = [];
      for (const publication of pending) fold(state, publication);
    },
    routeSheetFailed(state, { payload }: PayloadAction<{ routeId: string; notFound: boolean }>) {
      if (payload.routeId !== state.routeId) return;
      state.loading = false;
      state.notFound = payload.notFound;
      state.pending = [];
    },
  },
  extraReducers: (builder) =>
    builder
      .addCase(sluiceSubscribed, (state, { payload }) => {
        if (state.routeId && payload.channel === routeChannel(state.routeId) && !payload.recovered)
          state.loading = true;
      })
      .addCase(sluicePublication, (state, { payload }) => {
        if (!ours(state, payload.channel)) return;
        if (state.loading) state.pending.push(payload);
        else fold(state, payload);
      }),
});

export const { routeSheetRequested, routeSheetLoaded, routeSheetFailed } = routeSheetSlice.actions;
