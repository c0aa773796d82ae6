import { createListenerMiddleware } from "@reduxjs/toolkit";
import { callRejected, sluicePublication, sluiceSubscribed } from "@sluice/client-sdk/redux";
import { toastShown } from "../notifications/toastsSlice";
import {
  loadActivity,
  loadOrderBoard,
  loadProjects,
  loadRouteSheet,
  loadRoutes,
  type CallDispatch,
} from "../dispatch/state/loaders";
import { projectChannel, routeChannel } from "../dispatch/state/publication";
import type { RootState } from "./store";

/**
 * The store's reactions, in one place: reload a view when its channel could not be recovered or a
 * publication showed a gap, reload the activity feed when the project moves, and turn typed call
 * errors into toasts (a CONFLICT also reloads, so people see what changed first).
 */
export const listeners = createListenerMiddleware();

const startListening = listeners.startListening.withTypes<RootState>();
const asCall = (dispatch: unknown) => dispatch as CallDispatch;

/** Reloads every view that is open; what the channels would have brought is in the answers. */
function reloadOpenViews(state: RootState, dispatch: CallDispatch): void {
  if (state.orderBoard.projectId) void loadOrderBoard(dispatch, state.orderBoard.projectId);
  if (state.routes.projectId) void loadRoutes(dispatch, state.routes.projectId);
  if (state.routeSheet.routeId) void loadRouteSheet(dispatch, state.routeSheet.routeId);
}

startListening({
  actionCreator: sluiceSubscribed,
  effect: ({ payload }, api) => {
    if (payload.recovered) return;
    const state = api.getState();
    const dispatch = asCall(api.dispatch);
    if (payload.channel === "org") void loadProjects(dispatch);
    const { orderBoard, routes, routeSheet, activity } = state;
    if (orderBoard.projectId && payload.channel === projectChannel(orderBoard.projectId))
      void loadOrderBoard(dispatch, orderBoard.projectId);
    if (routes.projectId && payload.channel === projectChannel(routes.projectId))
      void loadRoutes(dispatch, routes.projectId);
    if (activity.projectId && payload.channel === projectChannel(activity.projectId))
      void loadActivity(dispatch, activity.projectId);
    if (routeSheet.routeId && payload.channel === routeChannel(routeSheet.routeId))
      void loadRouteSheet(dispatch, routeSheet.routeId);
  },
});

startListening({
  predicate: (_action, current, previous) =>
    (current.orderBoard.stale && !previous.orderBoard.stale) ||
    (current.routes.stale && !previous.routes.stale) ||
    (current.routeSheet.stale && !previous.routeSheet.stale),
  effect: (_action, api) => {
    const state = api.getState();
    const previous = api.getOriginalState();
    const dispatch = asCall(api.dispatch);
    if (state.orderBoard.stale && !previous.orderBoard.stale && state.orderBoard.projectId)
      void loadOrderBoard(dispatch, state.orderBoard.projectId);
    if (state.routes.stale && !previous.routes.stale && state.routes.projectId)
      void loadRoutes(dispatch, state.routes.projectId);
    if (state.routeSheet.stale && !previous.routeSheet.stale && state.routeSheet.routeId)
      void loadRouteSheet(dispatch, state.routeSheet.routeId);
  },
});

// Each debounce is its own listener: cancelActiveListeners cancels only this listener's waits.
startListening({
  predicate: (action) => sluicePublication.match(action) && action.payload.channel === "org",
  effect: async (_action, api) => {
    // New projects: the list's counts and names come from the server's read model.
    api.cancelActiveListeners();
    await api.delay(150);
    void loadProjects(asCall(api.dispatch));
  },
});

startListening({
  actionCreator: sluicePublication,
  effect: async ({ payload }, api) => {
    const { activity } = api.getState();
    if (!activity.projectId || payload.channel !== projectChannel(activity.projectId)) return;
    // The feed's sentences come from the server: reload once a burst of events has passed.
    api.cancelActiveListeners();
    await api.delay(250);
    void loadActivity(asCall(api.dispatch), activity.projectId);
  },
});

startListening({
  actionCreator: callRejected,
  effect: ({ payload: error }, api) => {
    if (error.codeName === "CONFLICT") {
      api.dispatch(
        toastShown({
          tone: "warning",
          title: "Someone changed this first",
          message: "Showing the latest version; please try again.",
          code: error.codeName,
        }),
      );
      reloadOpenViews(api.getState(), asCall(api.dispatch));
      return;
    }
    const titles: Record<string, string> = {
      FAILED_PRECONDITION: "Not possible right now",
      INVALID_ARGUMENT: "Please check your input",
      PERMISSION_DENIED: "You may not do this",
      NOT_FOUND: "Not found",
      UNAVAILABLE: "Server unreachable",
      TIMEOUT: "The server took too long",
      RATE_LIMITED: "Slow down a little",
    };
    api.dispatch(
      toastShown({
        tone: "error",
        title: titles[error.codeName] ?? "Something went wrong",
        message: error.message,
        code: error.codeName,
      }),
    );
  },
});
