import type { ReactNode } from "react";
import { Icon } from "./Icon";

export interface NoticeProps {
  title: string;
  message?: ReactNode;
  tone?: "success" | "info";
  /** A next step: "Undo", "Show". */
  action?: ReactNode;
}

/** That something worked, or what to know, in place on a page or form; announced politely. */
export function Notice({ title, message, tone = "success", action }: NoticeProps) {
  return (
    <div className={`sl-banner sl-banner--${tone}`} role="status">
      <Icon name={tone === "success" ? "check" : "alert"} />
      <div className="sl-banner__main">
        <div className="sl-banner__title">{title}</div>
        {message ? <div className="sl-banner__message">{message}</div> : null}
      </div>
      {action}
    </div>
  );
}
