import { combineSlices, configureStore, createDynamicMiddleware } from "@reduxjs/toolkit";
import type { SluiceClient } from "@sluice/client-sdk";
import { connectionSlice, createSluiceMiddleware } from "@sluice/client-sdk/redux";
import { activitySlice } from "../dispatch/state/activitySlice";
import { orderBoardSlice } from "../dispatch/state/orderBoardSlice";
import { projectsSlice } from "../dispatch/state/projectsSlice";
import { routeSheetSlice } from "../dispatch/state/routeSheetSlice";
import { routesSlice } from "../dispatch/state/routesSlice";
import { toastsSlice } from "../notifications/toastsSlice";
import { sessionSlice } from "../session/sessionSlice";
import { listeners } from "./listeners";
import { presenceSlice } from "./presenceSlice";

/**
 * Slices an app's lazy chunk brings along (`rootReducer.inject`, with its middleware added to
 * `appMiddleware`), so the main bundle carries none of the Settings app. Each adds itself here.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface LazyLoadedSlices {}

export const rootReducer = combineSlices(
  sessionSlice,
  connectionSlice,
  presenceSlice,
  toastsSlice,
  projectsSlice,
  orderBoardSlice,
  routesSlice,
  routeSheetSlice,
  activitySlice,
).withLazyLoadedSlices<LazyLoadedSlices>();

/** Where a lazy chunk adds its middleware (e.g. an RTK Query API's). */
export const appMiddleware = createDynamicMiddleware();

export type RootState = ReturnType<typeof rootReducer>;

/** One store per page load, wired to one client (one socket). */
export function makeStore(client: SluiceClient) {
  return configureStore({
    reducer: rootReducer,
    middleware: (getDefault) =>
      getDefault().prepend(listeners.middleware).concat(createSluiceMiddleware(client), appMiddleware.middleware),
  });
}

export type AppStore = ReturnType<typeof makeStore>;
export type AppDispatch = AppStore["dispatch"];
