import { useState, type FormEvent } from "react";
import { Button, ErrorBanner, TextField } from "@sluice/design-system";
import { AuthCard } from "./AuthCard";
import type { SessionProblem } from "./sessionSlice";

export interface SignInViewProps {
  busy: boolean;
  error: SessionProblem | null;
  onSubmit: (email: string, password: string) => void;
}

export function SignInView({ busy, error, onSubmit }: SignInViewProps) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit(email.trim(), password);
  };
  return (
    <AuthCard title="Sign in" lead="Plan with your team, live.">
      <form className="sl-form" onSubmit={submit} aria-label="Sign in">
        {error ? <ErrorBanner title={errorTitle(error)} message={error.message} code={error.code} /> : null}
        <TextField
          label="Email"
          type="email"
          value={email}
          onValueChange={setEmail}
          autoComplete="username"
          required
          autoFocus
        />
        <TextField
          label="Password"
          type="password"
          value={password}
          onValueChange={setPassword}
          autoComplete="current-password"
          required
        />
        <Button type="submit" variant="primary" busy={busy} disabled={!email || !password}>
          Sign in
        </Button>
      </form>
      <p className="signin__hint">
        Demo: <code className="sl-code">ana@acme.test</code> (owner) or <code className="sl-code">ben@acme.test</code>{" "}
        (dispatcher), password <code className="sl-code">dispatch</code>
      </p>
    </AuthCard>
  );
}

const titles: Record<SessionProblem["kind"], string> = {
  refused: "Could not sign in",
  ended: "Signed out",
  unreachable: "The server could not be reached",
};

function errorTitle(error: SessionProblem): string {
  return error.kind === "refused" && error.code === "UNAUTHENTICATED"
    ? "Email or password is wrong"
    : titles[error.kind];
}
