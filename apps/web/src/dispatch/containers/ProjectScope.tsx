import { useEffect, type ReactNode } from "react";
import { Outlet, useNavigate, useParams } from "react-router";
import { EmptyState } from "@sluice/design-system";
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
  const loaded = useAppSelector((state) => state.projects.loaded);
  useChannel(projectChannel(projectId));
  useEffect(() => rememberProject(projectId), [projectId]);
  useEffect(() => {
    if (!loaded) void loadProjects(dispatch);
  }, [dispatch, loaded]);
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
  if (loaded && !project) {
    return (
      <div className="sl-page">
        <EmptyState icon="folder" title="Project not found" description="It may belong to another organization, or the link is wrong." />
      </div>
    );
  }
  return (
    <div className="sl-page">
      <DispatchHeader
        projectId={projectId}
        projectName={project?.name ?? "…"}
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
