import { useState, type FormEvent } from "react";
import { Button, ErrorBanner, TextField } from "@sluice/design-system";
import { AuthCard } from "./AuthCard";
import type { SessionProblem } from "./sessionSlice";

export interface AcceptInvitationViewProps {
  /** False when the link carries no token: nothing to accept. */
  hasToken: boolean;
  busy: boolean;
  error: SessionProblem | null;
  onSubmit: (displayName: string, password: string) => void;
}

/** Where an invitation link leads: choose a name and password (or use one's account) and join. */
export function AcceptInvitationView({ hasToken, busy, error, onSubmit }: AcceptInvitationViewProps) {
  const [displayName, setDisplayName] = useState("");
  const [password, setPassword] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit(displayName.trim(), password);
  };
  return (
    <AuthCard title="Join your team" lead="You were invited to an organization on Sluice.">
      {hasToken ? (
        <form className="sl-form" onSubmit={submit} aria-label="Accept the invitation">
          {error ? <ErrorBanner title={errorTitle(error)} message={error.message} code={error.code} /> : null}
          <TextField
            label="Your name"
            value={displayName}
            onValueChange={setDisplayName}
            autoComplete="name"
            hint="How your team sees you. Already on Sluice with this email? Leave it empty."
            autoFocus
          />
          <TextField
            label="Password"
            type="password"
            value={password}
            onValueChange={setPassword}
            autoComplete="new-password"
            hint="A new password, or your account's if you have one."
            required
          />
          <Button type="submit" variant="primary" busy={busy} disabled={!password}>
            Join
          </Button>
        </form>
      ) : (
        <ErrorBanner
          title="This link is incomplete"
          message="Open the invitation link exactly as you received it, or ask for a new one."
        />
      )}
    </AuthCard>
  );
}

function errorTitle(error: SessionProblem): string {
  if (error.kind === "unreachable") return "The server could not be reached";
  if (error.code === "NOT_FOUND" || error.code === "FAILED_PRECONDITION") return "This invitation cannot be used";
  if (error.code === "UNAUTHENTICATED") return "That password does not match your account";
  if (error.code === "RESOURCE_EXHAUSTED") return "Too many attempts";
  return "Could not join";
}
