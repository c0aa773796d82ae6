import { useState, type FormEvent } from "react";
import type { RoleName } from "@sluice/identity";
import {
  Badge,
  Button,
  ConfirmDialog,
  DataTable,
  EmptyState,
  ErrorBanner,
  Notice,
  Panel,
  Select,
  TextField,
} from "@sluice/design-system";
import type { ApiError, Invitation } from "../api";
import { describeError } from "../errors";
import { formatDateTime } from "../format";
import { roleLabels, roleSummaries } from "../roles";
import type { ActionState } from "./MembersView";

export interface InvitationsViewProps {
  /** Undefined while loading. */
  invitations: readonly Invitation[] | undefined;
  loadError: ApiError | undefined;
  /** The roles the signed-in user may give (an admin cannot invite an owner). */
  roles: readonly RoleName[];
  inviting: ActionState;
  revoking: ActionState;
  /** Resolve when the server created it; reject to keep the form as it was. */
  onInvite: (email: string, role: RoleName) => Promise<void>;
  onRevoke: (id: string) => Promise<void>;
  onDismissError: () => void;
}

/** Invite people by email with a role, see who has not joined yet, and take an invitation back. */
export function InvitationsView({
  invitations,
  loadError,
  roles,
  inviting,
  revoking,
  onInvite,
  onRevoke,
  onDismissError,
}: InvitationsViewProps) {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<RoleName>("viewer");
  const [sent, setSent] = useState<{ email: string; role: RoleName } | null>(null);
  const [revokingOne, setRevokingOne] = useState<Invitation | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const invited = { email: email.trim(), role };
    setSent(null);
    onInvite(invited.email, invited.role).then(
      () => {
        setSent(invited);
        setEmail("");
      },
      () => undefined,
    );
  };

  return (
    <div className="sl-stack">
      <Panel title="Invite someone" subtitle="They get a link to join your organization with the role you choose.">
        <form className="sl-form" aria-label="Invite someone" onSubmit={submit}>
          {inviting.error ? <ErrorBanner {...describeError(inviting.error)} /> : null}
          {sent ? (
            <Notice
              title={`Invited ${sent.email} as ${roleLabels[sent.role]}`}
              message="The invitation waits below until they join."
            />
          ) : null}
          <div className="sl-form__row">
            <TextField
              label="Email"
              type="email"
              value={email}
              onValueChange={(value) => {
                setEmail(value);
                if (inviting.error) onDismissError();
              }}
              autoComplete="off"
              required
            />
            <Select
              label="Role"
              value={role}
              onValueChange={(value) => setRole(value as RoleName)}
              options={roles.map((option) => ({ value: option, label: roleLabels[option] }))}
              hint={roleSummaries[role]}
            />
          </div>
          <div className="sl-form__actions">
            <Button type="submit" variant="primary" icon="send" busy={inviting.busy} disabled={!email.trim()}>
              Send invitation
            </Button>
          </div>
        </form>
      </Panel>

      <Panel title="Pending invitations" subtitle="Invitations nobody has accepted yet." flush>
        {loadError ? <ErrorBanner {...describeError(loadError)} /> : null}
        {invitations === undefined && !loadError ? <EmptyState icon="mail" title="Loading invitations…" /> : null}
        {invitations ? (
          <DataTable
            caption="Pending invitations"
            rows={invitations}
            rowKey={(invitation) => invitation.id}
            rowProps={(invitation) => ({ "data-testid": "invitation-row", "aria-label": invitation.email })}
            empty={<EmptyState icon="mail" title="No pending invitations" description="Invite someone above." />}
            columns={[
              { key: "email", header: "Email", render: (invitation) => invitation.email },
              { key: "role", header: "Role", render: (invitation) => <Badge>{roleLabels[invitation.role]}</Badge> },
              {
                key: "by",
                header: "Invited by",
                render: (invitation) => invitation.invitedBy,
              },
              { key: "expires", header: "Expires", render: (invitation) => formatDateTime(invitation.expiresAt) },
              {
                key: "actions",
                header: "Actions",
                render: (invitation) => (
                  <Button
                    size="sm"
                    variant="ghost"
                    icon="close"
                    aria-label={`Revoke the invitation of ${invitation.email}`}
                    onClick={() => setRevokingOne(invitation)}
                  >
                    Revoke
                  </Button>
                ),
              },
            ]}
          />
        ) : null}
      </Panel>

      <ConfirmDialog
        open={revokingOne !== null}
        title={revokingOne ? `Revoke the invitation of ${revokingOne.email}?` : ""}
        confirmLabel="Revoke invitation"
        tone="danger"
        busy={revoking.busy}
        error={revoking.error && describeError(revoking.error)}
        onCancel={() => {
          setRevokingOne(null);
          onDismissError();
        }}
        onConfirm={() => {
          if (!revokingOne) return;
          onRevoke(revokingOne.id).then(
            () => setRevokingOne(null),
            () => undefined,
          );
        }}
      >
        <p>Its link stops working. You can invite them again later.</p>
      </ConfirmDialog>
    </div>
  );
}
