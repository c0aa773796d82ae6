import { useId, type ReactNode } from "react";
import { classNames } from "./Button";

export interface PanelProps {
  title: string;
  subtitle?: ReactNode;
  /** Buttons and controls at the right of the header. */
  actions?: ReactNode;
  /** Drops the body padding, for tables and lists that run edge to edge. */
  flush?: boolean;
  className?: string;
  children: ReactNode;
}

/** A titled card: a region of a page, named by its title for assistive tech. */
export function Panel({ title, subtitle, actions, flush, className, children }: PanelProps) {
  const titleId = useId();
  return (
    <section className={classNames("sl-card", "sl-panel", className)} aria-labelledby={titleId}>
      <header className="sl-panel__header">
        <div>
          <h2 id={titleId} className="sl-panel__title">
            {title}
          </h2>
          {subtitle ? <div className="sl-panel__subtitle">{subtitle}</div> : null}
        </div>
        {actions ? <div className="sl-panel__actions">{actions}</div> : null}
      </header>
      <div className={classNames("sl-panel__body", flush && "sl-panel__body--flush")}>{children}</div>
    </section>
  );
}
