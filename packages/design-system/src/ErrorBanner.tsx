import type { ReactNode } from "react";
import { Icon } from "./Icon";

export interface ErrorBannerProps {
  title: string;
  message?: string;
  /** The typed error's code, e.g. "PERMISSION_DENIED". */
  code?: string;
  tone?: "error" | "warning";
  /** A way out: "Try again", "Reload". */
  action?: ReactNode;
}

/** An error that belongs to a page or a form, shown in place until the cause is gone. */
export function ErrorBanner({ title, message, code, tone = "error", action }: ErrorBannerProps) {
  return (
    <div className={`sl-banner sl-banner--${tone}`} role="alert">
      <Icon name="alert" />
      <div className="sl-banner__main">
        <div className="sl-banner__title">{title}</div>
        {message ? <div className="sl-banner__message">{message}</div> : null}
        {code ? <code className="sl-code sl-banner__code">{code}</code> : null}
      </div>
      {action}
    </div>
  );
}
