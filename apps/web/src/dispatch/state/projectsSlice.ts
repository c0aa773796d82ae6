import { createSlice, type PayloadAction } from "@reduxjs/toolkit";
import type { ProjectViewJson } from "@sluice/contracts/gen/dispatch/v1/queries_pb";

/** The organization's projects, for the picker and for the name in every Dispatch header. */
export interface ProjectsState {
  items: ProjectViewJson[];
  loading: boolean;
  loaded: boolean;
}

const initialState: ProjectsState = { items: [], loading: false, loaded: false };

export const projectsSlice = createSlice({
  name: "projects",
  initialState,
  reducers: {
    projectsRequested(state) {
      state.loading = true;
    },
    projectsLoaded(state, { payload }: PayloadAction<ProjectViewJson[]>) {
      state.items = payload;
      state.loading = false;
      state.loaded = true;
    },
    projectsFailed(state) {
      state.loading = false;
    },
  },
});

export const { projectsRequested, projectsLoaded, projectsFailed } = projectsSlice.actions;
