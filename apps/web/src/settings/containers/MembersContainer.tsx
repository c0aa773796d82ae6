import { useChangeRoleMutation, useMembersQuery, useRemoveMemberMutation } from "../api";
import { MembersView } from "../views/MembersView";
import { actionState, apiError, useActor } from "./state";

export function MembersContainer() {
  const actor = useActor();
  const members = useMembersQuery();
  const [changeRole, roleChange] = useChangeRoleMutation();
  const [removeMember, removal] = useRemoveMemberMutation();
  return (
    <MembersView
      members={members.data}
      loadError={apiError(members.error)}
      actor={actor}
      roleChange={actionState(roleChange)}
      removal={actionState(removal)}
      onChangeRole={async (userId, role) => {
        await changeRole({ userId, role }).unwrap();
      }}
      onRemove={async (userId) => {
        await removeMember(userId).unwrap();
      }}
      onDismissError={() => {
        roleChange.reset();
        removal.reset();
      }}
    />
  );
}
