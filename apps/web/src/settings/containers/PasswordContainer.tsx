import { useChangePasswordMutation } from "../api";
import { PasswordView } from "../views/PasswordView";
import { actionState } from "./state";

export function PasswordContainer() {
  const [changePassword, changing] = useChangePasswordMutation();
  return (
    <PasswordView
      changing={actionState(changing)}
      onChange={async (currentPassword, newPassword) => {
        await changePassword({ currentPassword, newPassword }).unwrap();
      }}
    />
  );
}
