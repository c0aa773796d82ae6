import { AppLauncher, type LauncherApp } from "@sluice/design-system";

export interface LauncherViewProps {
  firstName: string;
  apps: readonly LauncherApp[];
  onNavigate: (href: string) => void;
}

export function LauncherView({ firstName, apps, onNavigate }: LauncherViewProps) {
  return (
    <div className="sl-page">
      <div className="sl-page__header">
        <div>
          <h1 className="sl-page__title">Welcome, {firstName}</h1>
          <div className="sl-page__subtitle">
            Open an app to get to work. Everyone in your organization sees changes as they happen.
          </div>
        </div>
      </div>
      <AppLauncher apps={apps} onNavigate={onNavigate} />
      <p className="sl-muted" style={{ fontSize: 13 }}>
        Building screens? See the{" "}
        <a
          href="/design-system"
          onClick={(event) => {
            event.preventDefault();
            onNavigate("/design-system");
          }}
        >
          design system gallery
        </a>
        .
      </p>
    </div>
  );
}
