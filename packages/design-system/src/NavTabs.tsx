import { followLink } from "./link";

export interface NavTab {
  id: string;
  label: string;
  href: string;
}

export interface NavTabsProps {
  /** Names the navigation landmark, e.g. "Settings modules". */
  label: string;
  tabs: readonly NavTab[];
  /** The id of the tab whose page is shown (`aria-current="page"`). */
  current: string | undefined;
  onNavigate?: (href: string) => void;
}

/** The pages of one app as a row of links, the current one underlined: a named `<nav>`. */
export function NavTabs({ label, tabs, current, onNavigate }: NavTabsProps) {
  return (
    <nav aria-label={label} className="sl-tabs">
      {tabs.map((tab) => (
        <a
          key={tab.id}
          href={tab.href}
          className="sl-tabs__tab"
          aria-current={tab.id === current ? "page" : undefined}
          onClick={(event) => followLink(event, tab.href, onNavigate)}
        >
          {tab.label}
        </a>
      ))}
    </nav>
  );
}
