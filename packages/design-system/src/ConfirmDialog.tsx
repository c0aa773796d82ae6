import type { ReactNode } from "react";
import { Button } from "./Button";
import { Dialog } from "./Dialog";
import { ErrorBanner } from "./ErrorBanner";

export interface ConfirmDialogProps {
  open: boolean;
  /** The question, e.g. "Remove Ben Brandt?". */
  title: string;
  /** What happens if people confirm, in plain words. */
  children: ReactNode;
  /** The confirming button's label: the action's verb, e.g. "Remove member". */
  confirmLabel: string;
  /** "danger" for what cannot be undone. Default "primary". */
  tone?: "primary" | "danger";
  /** The action is in flight: the confirm button shows busy, nothing closes. */
  busy?: boolean;
  /** Why the action failed, shown in place so people can try again or cancel. */
  error?: { title: string; message?: string | undefined; code?: string | undefined } | undefined;
  onConfirm: () => void;
  onCancel: () => void;
}

/**
 * Asks before an action that is hard to take back. Built on Dialog (focus trapped, Escape
 * cancels); focus starts on Cancel, so a stray Enter never confirms.
 */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  tone = "primary",
  busy = false,
  error,
  onConfirm,
  onCancel,
}: ConfirmDialogProps) {
  const cancel = () => {
    if (!busy) onCancel();
  };
  return (
    <Dialog open={open} title={title} onClose={cancel}>
      <div className="sl-stack">
        {error ? <ErrorBanner title={error.title} message={error.message} code={error.code} /> : null}
        <div className="sl-confirm__message">{children}</div>
        <div className="sl-form__actions">
          <Button data-autofocus onClick={cancel} disabled={busy}>
            Cancel
          </Button>
          <Button variant={tone} busy={busy} onClick={onConfirm}>
            {confirmLabel}
          </Button>
        </div>
      </div>
    </Dialog>
  );
}
