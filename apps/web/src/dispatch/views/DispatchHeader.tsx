import type { ReactNode } from "react";
import { followLink } from "@sluice/design-system";

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
        <nav aria-label="Dispatch modules" className="dispatch-tabs">
          {modules.map((module) => {
            const href = `/dispatch/p/${projectId}/${module.id}`;
            return (
              <a
                key={module.id}
                href={href}
                className="dispatch-tabs__tab"
                aria-current={module.id === current ? "page" : undefined}
                onClick={(event) => followLink(event, href, onNavigate)}
              >
                {module.label}
              </a>
            );
          })}
        </nav>
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
