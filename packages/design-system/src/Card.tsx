import type { HTMLAttributes, ReactNode } from "react";
import { classNames } from "./Button";

export interface CardProps extends HTMLAttributes<HTMLDivElement> {
  /** Lifts on hover; use when the whole card is a target. */
  interactive?: boolean;
  children: ReactNode;
}

/** A surface with a border and a light shadow. Content decides its own padding (see `CardBody`). */
export function Card({ interactive, className, children, ...rest }: CardProps) {
  return (
    <div {...rest} className={classNames("sl-card", interactive && "sl-card--interactive", className)}>
      {children}
    </div>
  );
}

export function CardBody({ children }: { children: ReactNode }) {
  return <div className="sl-card__body">{children}</div>;
}
