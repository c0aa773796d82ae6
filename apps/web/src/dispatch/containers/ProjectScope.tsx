import { useEffect, useEffectEvent, type ReactNode } from "react";
import { Outlet, useNavigate, useParams } from "react-router";
import { useAppDispatch, useAppSelector } from "../../app/hooks";
import { useChannel } from "../../app/useChannel";
import { loadProjects } from "../state/loaders";
import { projectChannel } from "../state/publication";
import { selectProject } from "../state/selectors";
import { DispatchHeader, type DispatchModule } from "../views/DispatchHeader";
import { rememberProject } from "./rememberedProject";

/** Everything under /dispatch/p/:projectId: holds the project channel while any module is open. */
export function ProjectScope() {
  const { projectId = "" } = useParams();
  const dispatch = useAppDispatch();
  const known = useAppSelector((state) => selectProject(state, projectId) !== undefined);
  useChannel(projectChannel(projectId));
  // New projects are announced on the organization's channel; the header needs this one's name.
  useChannel("org");
  useEffect(() => rememberProject(projectId), [projectId]);
  // Once per project: the header needs its name, and the list may predate it.
  const loadIfUnknown = useEffectEvent(() => {
    if (!known) void loadProjects(dispatch);
  });
  useEffect(() => loadIfUnknown(), [projectId]);
  return <Outlet />;
}

export function useProjectId(): string {
  return useParams().projectId ?? "";
}

export interface ProjectPageProps {
  module: DispatchModule;
  title: string;
  subtitle?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
}

/** The frame of a Dispatch page: the project's header and modules, then the page. */
export function ProjectPage({ module, title, subtitle, actions, children }: ProjectPageProps) {
  const projectId = useProjectId();
  const navigate = useNavigate();
  const project = useAppSelector((state) => selectProject(state, projectId));
  const loaded = useAppSelector((state) => state.projects.loaded);
  return (
    <div className="sl-page">
      <DispatchHeader
        projectId={projectId}
        projectName={project?.name ?? (loaded ? "Unknown project" : "…")}
        current={module}
        title={title}
        subtitle={subtitle}
        actions={actions}
        onNavigate={(href) => navigate(href)}
      />
      {children}
    </div>
  );
}
