import type { ReactNode } from "react";
import { Icon, type IconName } from "./Icon";

export interface EmptyStateProps {
  title: string;
  description?: ReactNode;
  icon?: IconName;
  /** The one thing to do next, usually a Button. */
  action?: ReactNode;
}

/** What a list or page shows when it has nothing yet, and what to do about it. */
export function EmptyState({ title, description, icon = "box", action }: EmptyStateProps) {
  return (
    <div className="sl-empty">
      <span className="sl-empty__icon">
        <Icon name={icon} />
      </span>
      <p className="sl-empty__title">{title}</p>
      {description ? <p style={{ margin: 0 }}>{description}</p> : null}
      {action ? <div className="sl-empty__action">{action}</div> : null}
    </div>
  );
}
