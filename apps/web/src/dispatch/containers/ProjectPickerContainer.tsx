import { useEffect, useState } from "react";
import { useNavigate, useSearchParams } from "react-router";
import { DispatchCommandService } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { useAppDispatch, useAppSelector } from "../../app/hooks";
import { useMayCall } from "../../session/useMayCall";
import { useChannel } from "../../app/useChannel";
import { loadProjects } from "../state/loaders";
import { ProjectPickerView } from "../views/ProjectPickerView";
import { commands } from "./commands";
import { isModule, rememberProject } from "./rememberedProject";

/** The picker, live on the organization channel; `?next=routes` says which module to open. */
export function ProjectPickerContainer() {
  const dispatch = useAppDispatch();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = params.get("next");
  const module = next && isModule(next) ? next : "orders";
  const { items, loading } = useAppSelector((state) => state.projects);
  const [creating, setCreating] = useState(false);
  const mayCreate = useMayCall(DispatchCommandService.method.createProject);
  useChannel("org");
  useEffect(() => void loadProjects(dispatch), [dispatch]);

  const hrefFor = (projectId: string) => `/dispatch/p/${projectId}/${module}`;
  return (
    <ProjectPickerView
      projects={items}
      loading={loading && items.length === 0}
      creating={creating}
      readOnly={!mayCreate}
      hrefFor={hrefFor}
      onNavigate={(href) => navigate(href)}
      onCreate={(name) => {
        setCreating(true);
        dispatch(commands.createProject({ name }))
          .then(
            (created) => {
              if (!created.projectId) return;
              rememberProject(created.projectId);
              navigate(hrefFor(created.projectId));
            },
            () => undefined,
          )
          .finally(() => setCreating(false));
      }}
    />
  );
}
