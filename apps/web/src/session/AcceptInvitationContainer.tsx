import { useState } from "react";
import { useLocation } from "react-router";
import { AcceptInvitationView } from "./AcceptInvitationView";
import { AuthError, acceptInvitation } from "./authApi";
import type { SessionProblem } from "./sessionSlice";

/**
 * /accept-invitation#token=…: the token rides in the fragment, so it never reaches a server log
 * or a Referer. Joining signs the invitee in; the app then starts afresh with their session (a
 * socket of whoever was signed in before must not linger).
 */
export function AcceptInvitationContainer() {
  const { hash } = useLocation();
  const token = new URLSearchParams(hash.replace(/^#/, "")).get("token") ?? "";
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<SessionProblem | null>(null);
  return (
    <AcceptInvitationView
      hasToken={token !== ""}
      busy={busy}
      error={error}
      onSubmit={(displayName, password) => {
        setBusy(true);
        setError(null);
        acceptInvitation(token, displayName || undefined, password).then(
          () => window.location.replace("/"),
          (failure: unknown) => {
            setBusy(false);
            setError(
              failure instanceof AuthError
                ? { kind: "refused", code: failure.code, message: failure.message }
                : { kind: "unreachable", code: "UNAVAILABLE", message: "The server could not be reached." },
            );
          },
        );
      }}
    />
  );
}
