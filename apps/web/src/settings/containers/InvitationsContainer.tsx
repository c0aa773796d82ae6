import { useInvitationsQuery, useInviteMutation, useRevokeInvitationMutation } from "../api";
import { assignableRoles } from "../roles";
import { InvitationsView } from "../views/InvitationsView";
import { actionState, apiError, useActor } from "./state";

export function InvitationsContainer() {
  const actor = useActor();
  const invitations = useInvitationsQuery();
  const [invite, inviting] = useInviteMutation();
  const [revoke, revoking] = useRevokeInvitationMutation();
  return (
    <InvitationsView
      invitations={invitations.data}
      loadError={apiError(invitations.error)}
      roles={assignableRoles(actor.role)}
      inviting={actionState(inviting)}
      revoking={actionState(revoking)}
      onInvite={async (email, role) => {
        await invite({ email, role }).unwrap();
      }}
      onRevoke={async (id) => {
        await revoke(id).unwrap();
      }}
      onDismissError={() => {
        inviting.reset();
        revoking.reset();
      }}
    />
  );
}
