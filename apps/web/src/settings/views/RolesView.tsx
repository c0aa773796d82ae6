import type { RoleName } from "@sluice/identity";
import { Badge, DataTable, Icon, Panel } from "@sluice/design-system";
import { capabilities, roleAtLeast, roleLabels, rolesHighestFirst, roleSummaries, type Capability } from "../roles";

export interface RolesViewProps {
  /** The signed-in user's role, pointed out. */
  role: RoleName;
}

/** What each role may do, in plain words: one row per thing, one column per role. */
export function RolesView({ role }: RolesViewProps) {
  return (
    <div className="sl-stack">
      <Panel
        title="Roles"
        subtitle={`Each role may do everything the roles below it may. You are ${roleLabels[role]}.`}
      >
        <ul className="settings-roles" aria-label="Roles">
          {rolesHighestFirst.map((name) => (
            <li key={name} aria-current={name === role ? "true" : undefined}>
              <strong>{roleLabels[name]}</strong>
              {name === role ? <Badge tone="primary">Your role</Badge> : null}
              <div className="sl-muted">{roleSummaries[name]}</div>
            </li>
          ))}
        </ul>
      </Panel>
      <Panel title="Who may do what" flush>
        <DataTable<Capability>
          caption="Who may do what"
          rows={capabilities}
          rowKey={(capability) => capability.label}
          columns={[
            { key: "what", header: "What", render: (capability) => capability.label },
            ...rolesHighestFirst.map((name) => ({
              key: name,
              header: roleLabels[name],
              render: (capability: Capability) =>
                roleAtLeast(name, capability.minimum) ? (
                  <Icon name="check" label="Yes" />
                ) : (
                  <span className="sl-muted">
                    <span aria-hidden="true">–</span>
                    <span className="sl-visually-hidden">No</span>
                  </span>
                ),
            })),
          ]}
        />
      </Panel>
    </div>
  );
}
