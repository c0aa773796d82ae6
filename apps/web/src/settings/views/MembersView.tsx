import { useState } from "react";
import type { RoleName } from "@sluice/identity";
import {
  Avatar,
  Badge,
  Button,
  ConfirmDialog,
  DataTable,
  Dialog,
  EmptyState,
  ErrorBanner,
  Panel,
  Select,
} from "@sluice/design-system";
import type { ApiError, Member } from "../api";
import { describeError } from "../errors";
import { formatDate } from "../format";
import { assignableRoles, mayChangeMember, mayManageMembers, roleLabels, roleSummaries } from "../roles";

/** A change in flight (or just refused): its busy state and the server's refusal. */
export interface ActionState {
  busy: boolean;
  error: ApiError | undefined;
}

export interface MembersViewProps {
  /** Undefined while loading. */
  members: readonly Member[] | undefined;
  loadError: ApiError | undefined;
  /** The signed-in user: what they may change follows from their role. */
  actor: { userId: string; role: RoleName };
  roleChange: ActionState;
  removal: ActionState;
  /** Resolve when the server agreed; reject to keep the dialog open with the error. */
  onChangeRole: (userId: string, role: RoleName) => Promise<void>;
  onRemove: (userId: string) => Promise<void>;
  /** Forget a refusal when its dialog is dismissed. */
  onDismissError: () => void;
}

/**
 * The organization's members. Owners and admins change roles (in a dialog: the change closes the
 * member's sockets so the new role applies at once) and remove members (confirmed); everyone else reads.
 */
export function MembersView({
  members,
  loadError,
  actor,
  roleChange,
  removal,
  onChangeRole,
  onRemove,
  onDismissError,
}: MembersViewProps) {
  const [editing, setEditing] = useState<{ member: Member; role: RoleName } | null>(null);
  const [leaving, setLeaving] = useState<Member | null>(null);
  const manages = mayManageMembers(actor.role);
  const choices = assignableRoles(actor.role).map((role) => ({ value: role, label: roleLabels[role] }));
  const all = members ?? [];

  return (
    <Panel
      title="Members"
      subtitle={
        manages
          ? "Change a member's role or remove them. Nobody changes their own role."
          : "Who is in your organization. Owners and admins manage members."
      }
      flush
    >
      {loadError ? <ErrorBanner {...describeError(loadError)} /> : null}
      {members === undefined && !loadError ? <EmptyState icon="users" title="Loading members…" /> : null}
      {members ? (
        <DataTable
          caption="Members"
          rows={all}
          rowKey={(member) => member.userId}
          rowProps={(member) => ({ "data-testid": "member-row", "aria-label": member.displayName })}
          empty={<EmptyState icon="users" title="No members" />}
          columns={[
            {
              key: "name",
              header: "Name",
              render: (member) => (
                <span className="settings-person">
                  <Avatar name={member.displayName} id={member.userId} size="sm" />
                  <span>
                    {member.displayName}
                    {member.userId === actor.userId ? <span className="sl-muted"> (you)</span> : null}
                  </span>
                </span>
              ),
            },
            { key: "email", header: "Email", render: (member) => member.email },
            {
              key: "role",
              header: "Role",
              render: (member) => (
                <span className="settings-role">
                  <Badge tone={member.role === "owner" || member.role === "admin" ? "primary" : "neutral"}>
                    {roleLabels[member.role]}
                  </Badge>
                  {mayChangeMember(actor, member, all) ? (
                    <Button
                      size="sm"
                      variant="ghost"
                      icon="edit"
                      aria-label={`Change the role of ${member.displayName}`}
                      onClick={() => setEditing({ member, role: member.role })}
                    >
                      Change
                    </Button>
                  ) : null}
                </span>
              ),
            },
            { key: "joined", header: "Joined", render: (member) => formatDate(member.joinedAt) },
            {
              key: "actions",
              header: "Actions",
              render: (member) =>
                mayChangeMember(actor, member, all) ? (
                  <Button
                    size="sm"
                    variant="ghost"
                    icon="trash"
                    aria-label={`Remove ${member.displayName}`}
                    onClick={() => setLeaving(member)}
                  >
                    Remove
                  </Button>
                ) : null,
            },
          ]}
        />
      ) : null}

      <Dialog
        open={editing !== null}
        title={editing ? `Change the role of ${editing.member.displayName}` : ""}
        onClose={() => {
          if (roleChange.busy) return;
          setEditing(null);
          onDismissError();
        }}
      >
        {editing ? (
          <form
            className="sl-form"
            aria-label="Change role"
            onSubmit={(event) => {
              event.preventDefault();
              onChangeRole(editing.member.userId, editing.role).then(
                () => setEditing(null),
                () => undefined,
              );
            }}
          >
            {roleChange.error ? <ErrorBanner {...describeError(roleChange.error)} /> : null}
            <Select
              label="Role"
              value={editing.role}
              options={choices}
              hint={roleSummaries[editing.role]}
              onValueChange={(role) => setEditing({ member: editing.member, role: role as RoleName })}
            />
            <p className="sl-muted" style={{ margin: 0 }}>
              {editing.member.displayName} is {article(editing.member.role)} {roleLabels[editing.member.role]} now.
              Their open windows reconnect with the new role.
            </p>
            <div className="sl-form__actions">
              <Button
                onClick={() => {
                  setEditing(null);
                  onDismissError();
                }}
                disabled={roleChange.busy}
              >
                Cancel
              </Button>
              <Button
                type="submit"
                variant="primary"
                busy={roleChange.busy}
                disabled={editing.role === editing.member.role}
              >
                Change role
              </Button>
            </div>
          </form>
        ) : null}
      </Dialog>

      <ConfirmDialog
        open={leaving !== null}
        title={leaving ? `Remove ${leaving.displayName}?` : ""}
        confirmLabel="Remove member"
        tone="danger"
        busy={removal.busy}
        error={removal.error && describeError(removal.error)}
        onCancel={() => {
          setLeaving(null);
          onDismissError();
        }}
        onConfirm={() => {
          if (!leaving) return;
          onRemove(leaving.userId).then(
            () => setLeaving(null),
            () => undefined,
          );
        }}
      >
        {leaving ? (
          <p>
            {leaving.displayName} ({leaving.email}) loses access at once: every device they use is signed out. To bring
            them back, invite them again.
          </p>
        ) : null}
      </ConfirmDialog>
    </Panel>
  );
}

function article(role: RoleName): string {
  return role === "owner" || role === "admin" ? "an" : "a";
}
