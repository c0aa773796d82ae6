import type { ReactNode } from "react";

export interface AuthCardProps {
  title: string;
  /** One line under the title. */
  lead: string;
  children: ReactNode;
}

/** The card the pages outside the shell share (sign-in, accepting an invitation): brand, title, lead. */
export function AuthCard({ title, lead, children }: AuthCardProps) {
  return (
    <div className="signin">
      <div className="signin__card sl-card">
        <div className="signin__brand">
          <span className="signin__logo" aria-hidden="true">
            S
          </span>
          <span>Sluice</span>
        </div>
        <h1 className="signin__title">{title}</h1>
        <p className="sl-muted" style={{ margin: "0 0 20px" }}>
          {lead}
        </p>
        {children}
      </div>
    </div>
  );
}
