import { useState, type FormEvent } from "react";
import { Button, ErrorBanner, Notice, Panel, TextField } from "@sluice/design-system";
import { describeError } from "../errors";
import type { ActionState } from "./MembersView";

export interface PasswordViewProps {
  changing: ActionState;
  /** Resolve when the server changed it; reject to keep what was typed. */
  onChange: (currentPassword: string, newPassword: string) => Promise<void>;
}

/** Change one's password; the server then signs every other device out. */
export function PasswordView({ changing, onChange }: PasswordViewProps) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const [done, setDone] = useState(false);
  const mismatch = repeat !== "" && repeat !== next ? "The two new passwords differ." : undefined;
  const same = next !== "" && next === current ? "Choose a password you do not use now." : undefined;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (mismatch || same) return;
    setDone(false);
    onChange(current, next).then(
      () => {
        setDone(true);
        setCurrent("");
        setNext("");
        setRepeat("");
      },
      () => undefined,
    );
  };

  return (
    <Panel title="Change your password" subtitle="Every other device signed in as you is signed out.">
      <form className="sl-form settings-narrow" aria-label="Change your password" onSubmit={submit}>
        {changing.error ? <ErrorBanner {...describeError(changing.error)} /> : null}
        {done ? <Notice title="Password changed" message="Your other devices were signed out." /> : null}
        <TextField
          label="Current password"
          type="password"
          value={current}
          onValueChange={setCurrent}
          autoComplete="current-password"
          required
        />
        <TextField
          label="New password"
          type="password"
          value={next}
          onValueChange={setNext}
          autoComplete="new-password"
          error={same}
          required
        />
        <TextField
          label="Repeat the new password"
          type="password"
          value={repeat}
          onValueChange={setRepeat}
          autoComplete="new-password"
          error={mismatch}
          required
        />
        <div className="sl-form__actions">
          <Button
            type="submit"
            variant="primary"
            busy={changing.busy}
            disabled={!current || !next || !repeat || Boolean(mismatch || same)}
          >
            Change password
          </Button>
        </div>
      </form>
    </Panel>
  );
}
