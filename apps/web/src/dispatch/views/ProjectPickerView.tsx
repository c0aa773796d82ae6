import { useState, type FormEvent } from "react";
import { Button, EmptyState, ListRow, Panel, TextField, Badge } from "@sluice/design-system";
import type { ProjectViewJson } from "@sluice/contracts/gen/dispatch/v1/queries_pb";

export interface ProjectPickerViewProps {
  projects: readonly ProjectViewJson[];
  loading: boolean;
  creating: boolean;
  /** Where each project's row leads. */
  hrefFor: (projectId: string) => string;
  onNavigate: (href: string) => void;
  onCreate: (name: string) => void;
  /** The user may not create projects (a viewer): no "New project" form. */
  readOnly?: boolean;
}

/** Choose the project to work in, or start a new one. */
export function ProjectPickerView({
  projects,
  loading,
  creating,
  hrefFor,
  onNavigate,
  onCreate,
  readOnly = false,
}: ProjectPickerViewProps) {
  const [name, setName] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) return;
    onCreate(name.trim());
    setName("");
  };
  return (
    <div className="sl-page" style={{ maxWidth: 880 }}>
      <div className="sl-page__header">
        <div>
          <h1 className="sl-page__title">Dispatch</h1>
          <div className="sl-page__subtitle">Pick a project to plan its orders and routes.</div>
        </div>
      </div>
      <Panel title="Projects" subtitle={loading ? "Loading…" : `${projects.length} in your organization`} flush>
        {projects.length === 0 && !loading ? (
          <EmptyState icon="folder" title="No projects yet" description="Create the first one below." />
        ) : (
          <ul className="sl-list" aria-label="Projects">
            {projects.map((project) => (
              <ListRow
                key={project.projectId}
                testId="project-row"
                href={hrefFor(project.projectId ?? "")}
                onNavigate={onNavigate}
                title={project.name}
                meta={`${project.routes ?? 0} routes`}
                trailing={
                  <Badge tone={project.openOrders ? "info" : "neutral"}>{project.openOrders ?? 0} open orders</Badge>
                }
              />
            ))}
          </ul>
        )}
      </Panel>
      {readOnly ? null : (
        <Panel title="New project">
          <form className="sl-inline" style={{ alignItems: "flex-end" }} onSubmit={submit}>
            <div style={{ flex: 1 }}>
              <TextField
                label="Project name"
                value={name}
                onValueChange={setName}
                placeholder="e.g. Rotterdam depot"
                maxLength={120}
              />
            </div>
            <Button type="submit" variant="primary" icon="plus" busy={creating} disabled={!name.trim()}>
              Create project
            </Button>
          </form>
        </Panel>
      )}
    </div>
  );
}
