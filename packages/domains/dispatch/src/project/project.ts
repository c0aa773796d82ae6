import { create } from "@bufbuild/protobuf";
import type { CreateProjectRequest } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { ProjectCreatedSchema, type ProjectCreated } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import type { DispatchEvent } from "../events";
import { rules, ruleBroken } from "../rules";

export type ProjectState =
  { readonly status: "none" } | { readonly status: "active"; readonly projectId: string; readonly name: string };

export const initialProjectState = (): ProjectState => ({ status: "none" });

export function evolveProject(state: ProjectState, event: DispatchEvent): ProjectState {
  switch (event.$typeName) {
    case "dispatch.v1.ProjectCreated":
      return { status: "active", projectId: event.projectId, name: event.name };
    default:
      return state;
  }
}

export function createProject(
  request: CreateProjectRequest,
  projectId: string,
  project: ProjectState,
): ProjectCreated[] {
  if (project.status !== "none") throw ruleBroken(rules.alreadyExists, `Project ${projectId} already exists.`);
  return [create(ProjectCreatedSchema, { projectId, name: request.name })];
}
