import { createSlice, type PayloadAction } from "@reduxjs/toolkit";
import type { ActivityEntryJson } from "@sluice/contracts/gen/dispatch/v1/queries_pb";

/**
 * The open project's activity feed. Its sentences are written by the server's projection, so a
 * publication on the project channel triggers a reload (see listeners) rather than a local fold.
 */
export interface ActivityState {
  projectId: string | null;
  entries: ActivityEntryJson[];
  loading: boolean;
}

const initialState: ActivityState = { projectId: null, entries: [], loading: false };

export const activitySlice = createSlice({
  name: "activity",
  initialState,
  reducers: {
    activityRequested(state, { payload }: PayloadAction<{ projectId: string }>) {
      if (state.projectId !== payload.projectId) state.entries = [];
      state.projectId = payload.projectId;
      state.loading = true;
    },
    activityLoaded(state, { payload }: PayloadAction<{ projectId: string; entries: ActivityEntryJson[] }>) {
      if (payload.projectId !== state.projectId) return;
      state.entries = payload.entries;
      state.loading = false;
    },
    activityFailed(state) {
      state.loading = false;
    },
    activityClosed(state) {
      state.projectId = null;
      state.entries = [];
    },
  },
});

export const { activityRequested, activityLoaded, activityFailed, activityClosed } = activitySlice.actions;
