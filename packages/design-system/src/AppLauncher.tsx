import { Icon, type IconName } from "./Icon";
import { followLink } from "./link";

export interface LauncherModule {
  id: string;
  name: string;
  description: string;
  href: string;
  icon: IconName;
}

export interface LauncherApp {
  id: string;
  name: string;
  description: string;
  icon: IconName;
  modules: readonly LauncherModule[];
}

export interface AppLauncherProps {
  apps: readonly LauncherApp[];
  onNavigate?: (href: string) => void;
}

/** Every app the user may open, each with tiles for its modules. */
export function AppLauncher({ apps, onNavigate }: AppLauncherProps) {
  return (
    <nav className="sl-launcher" aria-label="Apps">
      {apps.map((app) => (
        <section key={app.id} className="sl-launcher__app" aria-labelledby={`app-${app.id}`}>
          <div className="sl-launcher__app-header">
            <span className="sl-launcher__app-icon" aria-hidden="true">
              <Icon name={app.icon} />
            </span>
            <div>
              <h2 id={`app-${app.id}`} className="sl-launcher__app-name">
                {app.name}
              </h2>
              <div className="sl-launcher__app-description">{app.description}</div>
            </div>
          </div>
          <ul className="sl-launcher__tiles">
            {app.modules.map((module) => (
              <li key={module.id}>
                <a
                  className="sl-launcher__tile"
                  href={module.href}
                  onClick={(event) => followLink(event, module.href, onNavigate)}
                >
                  <span className="sl-launcher__tile-icon" aria-hidden="true">
                    <Icon name={module.icon} />
                  </span>
                  <span className="sl-launcher__tile-name">{module.name}</span>
                  <span className="sl-launcher__tile-description">{module.description}</span>
                </a>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </nav>
  );
}
