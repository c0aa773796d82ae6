import { useState } from "react";
import { AuthError, signOut } from "../../session/authApi";
import { useSessionsQuery, useSignOutSessionMutation, type ApiError } from "../api";
import { SessionsView } from "../views/SessionsView";
import { apiError } from "./state";

export function SessionsContainer() {
  const sessions = useSessionsQuery();
  const [signOutSession, one] = useSignOutSessionMutation();
  const [everywhere, setEverywhere] = useState<{ busy: boolean; error?: ApiError }>({ busy: false });
  return (
    <SessionsView
      sessions={sessions.data}
      loadError={apiError(sessions.error)}
      signingOut={{ busy: one.isLoading || everywhere.busy, error: apiError(one.error) ?? everywhere.error }}
      onSignOut={async (id) => {
        await signOutSession(id).unwrap();
      }}
      onSignOutEverywhere={async () => {
        setEverywhere({ busy: true });
        try {
          await signOut("all");
        } catch (error) {
          const refusal =
            error instanceof AuthError
              ? { code: error.code, message: error.message }
              : { code: "UNAVAILABLE", message: "The server could not be reached." };
          setEverywhere({ busy: false, error: refusal });
          throw error;
        }
        // A fresh page drops the store and the socket with the session, as the taskbar's sign-out does.
        window.location.assign("/signin");
      }}
      onDismissError={() => {
        one.reset();
        setEverywhere({ busy: false });
      }}
    />
  );
}
