import type { ReactNode } from "react";
import { IconButton } from "./Button";
import { Icon } from "./Icon";

export type ToastTone = "info" | "success" | "warning" | "error";

export interface ToastMessage {
  id: string;
  tone: ToastTone;
  title: string;
  message?: string;
  /** A typed error's code, e.g. "CONFLICT", shown so people can report it precisely. */
  code?: string;
  /** A button such as "Reload". */
  action?: ReactNode;
}

export interface ToastStackProps {
  toasts: readonly ToastMessage[];
  onDismiss: (id: string) => void;
}

/** Short-lived messages in the corner above the taskbar. Errors are announced at once, others politely. */
export function ToastStack({ toasts, onDismiss }: ToastStackProps) {
  return (
    <div className="sl-toasts" aria-label="Notifications">
      {toasts.map((toast) => (
        <Toast key={toast.id} toast={toast} onDismiss={() => onDismiss(toast.id)} />
      ))}
    </div>
  );
}

export function Toast({ toast, onDismiss }: { toast: ToastMessage; onDismiss: () => void }) {
  return (
    <div className={`sl-toast sl-toast--${toast.tone}`} role={toast.tone === "error" ? "alert" : "status"} data-testid="toast">
      <Icon name={toast.tone === "error" || toast.tone === "warning" ? "alert" : "check"} />
      <div className="sl-toast__main">
        <div className="sl-toast__title">{toast.title}</div>
        {toast.message ? <div className="sl-toast__message">{toast.message}</div> : null}
        {toast.code || toast.action ? (
          <div className="sl-inline" style={{ marginTop: 6 }}>
            {toast.code ? <code className="sl-code">{toast.code}</code> : null}
            {toast.action}
          </div>
        ) : null}
      </div>
      <IconButton icon="close" label="Dismiss" size="sm" onClick={onDismiss} />
    </div>
  );
}
