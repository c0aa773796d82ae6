import { useEffect, useEffectEvent, type ReactNode } from "react";
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
  /** Dismisses each toast after this long; errors stay twice as long. Unset: they stay until closed. */
  autoDismissMs?: number;
}

/** Short-lived messages in the corner above the taskbar. Errors are announced at once, others politely. */
export function ToastStack({ toasts, onDismiss, autoDismissMs }: ToastStackProps) {
  return (
    <div className="sl-toasts" aria-label="Notifications">
      {toasts.map((toast) => (
        <Toast
          key={toast.id}
          toast={toast}
          onDismiss={() => onDismiss(toast.id)}
          autoDismissMs={autoDismissMs && (toast.tone === "error" ? autoDismissMs * 2 : autoDismissMs)}
        />
      ))}
    </div>
  );
}

export function Toast({
  toast,
  onDismiss,
  autoDismissMs,
}: {
  toast: ToastMessage;
  onDismiss: () => void;
  autoDismissMs?: number | undefined;
}) {
  // Each toast is keyed by its id, so the timer lives as long as the toast; a new onDismiss does not restart it.
  const dismiss = useEffectEvent(onDismiss);
  useEffect(() => {
    if (!autoDismissMs) return;
    const timer = setTimeout(dismiss, autoDismissMs);
    return () => clearTimeout(timer);
  }, [autoDismissMs]);
  return (
    <div
      className={`sl-toast sl-toast--${toast.tone}`}
      role={toast.tone === "error" ? "alert" : "status"}
      data-testid="toast"
    >
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
