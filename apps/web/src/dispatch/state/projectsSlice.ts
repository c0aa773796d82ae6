import { createSlice, type PayloadAction } from "@reduxjs/toolkit";
import { isEvent } from "@sluice/client-sdk/redux";
import { ProjectCreatedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import type { ProjectViewJson } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import { streamVersionOf } from "./publication";

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
      // Projects are never removed: one known from its event and not yet in the (lagging) list stays.
      const listed = new Set(payload.map((project) => project.projectId));
      state.items = [...payload, ...state.items.filter((project) => !listed.has(project.projectId))];
      state.loading = false;
      state.loaded = true;
    },
    projectsFailed(state) {
      state.loading = false;
    },
  },
  extraReducers: (builder) =>
    // A project created a moment ago is known from its event before the list's projection has it.
    builder.addMatcher(isEvent(ProjectCreatedSchema), (state, { payload }) => {
      const { projectId, name } = payload.event;
      if (state.items.some((project) => project.projectId === projectId)) return;
      state.items.push({ projectId, name, openOrders: 0, routes: 0, version: streamVersionOf(payload) });
    }),
});

export const { projectsRequested, projectsLoaded, projectsFailed } = projectsSlice.actions;
