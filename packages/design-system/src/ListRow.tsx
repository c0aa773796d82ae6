import type { MouseEvent, ReactNode } from "react";
import { followLink } from "./link";

export interface ListRowProps {
  title: ReactNode;
  meta?: ReactNode;
  /** An avatar or icon before the text. */
  leading?: ReactNode;
  /** Pills, figures or buttons at the end. */
  trailing?: ReactNode;
  /** Makes the row a link; with onNavigate, a client-side one. */
  href?: string;
  onNavigate?: (href: string) => void;
  testId?: string;
}

/** One row of a list: a title, a line of detail, and things at either end. Put rows in a `<ul className="sl-list">`. */
export function ListRow({ title, meta, leading, trailing, href, onNavigate, testId }: ListRowProps) {
  const content = (
    <>
      {leading}
      <div className="sl-list-row__main">
        <div className="sl-list-row__title">{title}</div>
        {meta ? <div className="sl-list-row__meta">{meta}</div> : null}
      </div>
      {trailing ? <div className="sl-list-row__trailing">{trailing}</div> : null}
    </>
  );
  return (
    <li data-testid={testId}>
      {href ? (
        <a
          className="sl-list-row"
          href={href}
          onClick={(event: MouseEvent<HTMLAnchorElement>) => followLink(event, href, onNavigate)}
        >
          {content}
        </a>
      ) : (
        <div className="sl-list-row">{content}</div>
      )}
    </li>
  );
}
