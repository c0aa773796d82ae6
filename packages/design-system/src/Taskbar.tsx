import type { ReactNode } from "react";
import { Button } from "./Button";
import { Avatar } from "./Avatar";
import { Icon } from "./Icon";
import { followLink } from "./link";

export interface TaskbarTask {
  id: string;
  label: string;
  href: string;
  current?: boolean;
}

export interface TaskbarProps {
  /** Where the launcher lives. */
  launcherHref: string;
  /** The modules in reach, the current one marked. */
  tasks: readonly TaskbarTask[];
  /** Always shown at the end: the ConnectionStatus. */
  status: ReactNode;
  user?: { id: string; name: string; organization?: string };
  onSignOut?: () => void;
  onNavigate?: (href: string) => void;
}

/** The bar along the bottom of every screen: launcher, open modules, connection status, who is signed in. */
export function Taskbar({ launcherHref, tasks, status, user, onSignOut, onNavigate }: TaskbarProps) {
  return (
    <footer className="sl-taskbar">
      <div className="sl-taskbar__start">
        <a
          className="sl-taskbar__task"
          href={launcherHref}
          onClick={(event) => followLink(event, launcherHref, onNavigate)}
        >
          <Icon name="grid" />
          <span className="sl-taskbar__brand" style={{ marginLeft: 8 }}>
            Sluice
          </span>
          {/* The visible word starts the accessible name, as speech users will say it. */}
          <span className="sl-visually-hidden">app launcher</span>
        </a>
      </div>
      <nav aria-label="Modules" style={{ flex: 1, minWidth: 0 }}>
        <ul className="sl-taskbar__tasks">
          {tasks.map((task) => (
            <li key={task.id}>
              <a
                className="sl-taskbar__task"
                href={task.href}
                aria-current={task.current ? "page" : undefined}
                onClick={(event) => followLink(event, task.href, onNavigate)}
              >
                {task.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <div className="sl-taskbar__end">
        {status}
        {user ? (
          <span className="sl-taskbar__user" data-testid="signed-in-user">
            <Avatar name={user.name} id={user.id} size="sm" />
            <span>
              {user.name}
              {user.organization ? <span style={{ opacity: 0.6 }}> · {user.organization}</span> : null}
            </span>
          </span>
        ) : null}
        {onSignOut ? (
          <Button variant="ghost" size="sm" icon="signOut" onClick={onSignOut}>
            Sign out
          </Button>
        ) : null}
      </div>
    </footer>
  );
}
