import { combineSlices, configureStore } from "@reduxjs/toolkit";
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

const rootReducer = combineSlices(
  sessionSlice,
  connectionSlice,
  presenceSlice,
  toastsSlice,
  projectsSlice,
  orderBoardSlice,
  routesSlice,
  routeSheetSlice,
  activitySlice,
);

export type RootState = ReturnType<typeof rootReducer>;

/** One store per page load, wired to one client (one socket). */
export function makeStore(client: SluiceClient) {
  return configureStore({
    reducer: rootReducer,
    middleware: (getDefault) => getDefault().prepend(listeners.middleware).concat(createSluiceMiddleware(client)),
  });
}

export type AppStore = ReturnType<typeof makeStore>;
export type AppDispatch = AppStore["dispatch"];
