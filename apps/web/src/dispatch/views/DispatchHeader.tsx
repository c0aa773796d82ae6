import type { ReactNode } from "react";
import { followLink, NavTabs } from "@sluice/design-system";

export type DispatchModule = "orders" | "routes" | "activity";

export interface DispatchHeaderProps {
  projectName: string;
  projectId: string;
  current: DispatchModule;
  title: string;
  subtitle?: ReactNode;
  actions?: ReactNode;
  onNavigate: (href: string) => void;
}

const modules: ReadonlyArray<{ id: DispatchModule; label: string }> = [
  { id: "orders", label: "Orders" },
  { id: "routes", label: "Routes" },
  { id: "activity", label: "Activity" },
];

/** The top of every Dispatch page: which project, its modules as tabs, the page's title and actions. */
export function DispatchHeader({
  projectName,
  projectId,
  current,
  title,
  subtitle,
  actions,
  onNavigate,
}: DispatchHeaderProps) {
  return (
    <div className="sl-stack" style={{ gap: 16 }}>
      <div className="dispatch-context">
        <a
          href="/dispatch"
          className="dispatch-context__project"
          onClick={(event) => followLink(event, "/dispatch", onNavigate)}
        >
          <span className="sl-muted">Project</span> <strong data-testid="current-project">{projectName}</strong>
          <span className="sl-muted"> · switch</span>
        </a>
        <NavTabs
          label="Dispatch modules"
          tabs={modules.map((module) => ({ ...module, href: `/dispatch/p/${projectId}/${module.id}` }))}
          current={current}
          onNavigate={onNavigate}
        />
      </div>
      <div className="sl-page__header">
        <div>
          <h1 className="sl-page__title">{title}</h1>
          {subtitle ? <div className="sl-page__subtitle">{subtitle}</div> : null}
        </div>
        {actions ? <div className="sl-page__actions">{actions}</div> : null}
      </div>
    </div>
  );
}
