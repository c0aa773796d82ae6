import { useState, type ReactNode } from "react";
import {
  AppLauncher,
  Avatar,
  Badge,
  Button,
  Card,
  CardBody,
  ConfirmDialog,
  ConnectionStatus,
  DataTable,
  DateTimeField,
  Dialog,
  EmptyState,
  ErrorBanner,
  Icon,
  IconButton,
  iconNames,
  ListRow,
  LoadBar,
  NavTabs,
  Notice,
  NumberField,
  Panel,
  PresenceStack,
  SegmentedControl,
  Select,
  StatusPill,
  StopList,
  Taskbar,
  TextField,
  Toast,
  moveItem,
  type StopItem,
} from "@sluice/design-system";
import { apps } from "../shell/apps";
import "./gallery.css";

/** Every design-system component with its variants, on sample props: the living half of its README. */
export default function DesignSystemGallery() {
  return (
    <div className="sl-page gallery">
      <div className="sl-page__header">
        <div>
          <h1 className="sl-page__title">Design system</h1>
          <div className="sl-page__subtitle">
            Components of <code className="sl-code">@sluice/design-system</code>: props in, callbacks out, no store.
            Tokens live in <code className="sl-code">tokens.css</code>.
          </div>
        </div>
        <a href="/">Back to the app</a>
      </div>
      <Tokens />
      <Icons />
      <Buttons />
      <Fields />
      <Choices />
      <StatusAndBadges />
      <Surfaces />
      <Feedback />
      <People />
      <ShellParts />
      <DispatchWidgets />
    </div>
  );
}

function Section({ title, description, children }: { title: string; description: string; children: ReactNode }) {
  return (
    <Panel title={title} subtitle={description}>
      <div className="gallery__body">{children}</div>
    </Panel>
  );
}

function Tokens() {
  const colors = [
    "primary",
    "success",
    "warning",
    "danger",
    "info",
    "text",
    "text-muted",
    "border",
    "surface-sunken",
    "taskbar",
  ];
  return (
    <Section title="Tokens" description="Colour, spacing, radius and elevation as CSS custom properties (--sl-*).">
      <div className="gallery__swatches">
        {colors.map((name) => (
          <div key={name} className="gallery__swatch">
            <span style={{ background: `var(--sl-color-${name})` }} />
            <code>--sl-color-{name}</code>
          </div>
        ))}
      </div>
      <div className="sl-inline" style={{ gap: 16, alignItems: "flex-end" }}>
        {[1, 2, 3, 4, 5, 6, 7].map((step) => (
          <div
            key={step}
            className="gallery__space"
            style={{ width: `var(--sl-space-${step})`, height: `var(--sl-space-${step})` }}
            title={`--sl-space-${step}`}
          />
        ))}
        {[1, 2, 3].map((level) => (
          <div key={level} className="gallery__elevation" style={{ boxShadow: `var(--sl-shadow-${level})` }}>
            shadow-{level}
          </div>
        ))}
      </div>
    </Section>
  );
}

function Icons() {
  return (
    <Section title="Icon" description="Inline stroke icons; decorative unless given a label.">
      <ul className="gallery__icons">
        {iconNames.map((name) => (
          <li key={name}>
            <Icon name={name} />
            <code>{name}</code>
          </li>
        ))}
      </ul>
    </Section>
  );
}

function Buttons() {
  return (
    <Section
      title="Button and IconButton"
      description="Primary for the one main action, secondary, ghost, danger; two sizes; busy and disabled."
    >
      <div className="sl-inline">
        <Button variant="primary" icon="plus">
          Primary
        </Button>
        <Button>Secondary</Button>
        <Button variant="ghost">Ghost</Button>
        <Button variant="danger" icon="trash">
          Danger
        </Button>
        <Button variant="primary" busy>
          Busy
        </Button>
        <Button disabled>Disabled</Button>
        <Button size="sm">Small</Button>
        <IconButton icon="edit" label="Edit" />
        <IconButton icon="trash" label="Delete" variant="secondary" />
        <IconButton icon="close" label="Close" size="sm" />
      </div>
    </Section>
  );
}

function Fields() {
  const [text, setText] = useState("Acme Retail");
  const [number, setNumber] = useState("1250");
  const [when, setWhen] = useState("2026-03-02T08:00:00.000Z");
  const [choice, setChoice] = useState("");
  return (
    <Section
      title="Fields"
      description="TextField, NumberField, DateTimeField and Select on FormField: label, hint, error, required."
    >
      <div className="sl-form__row">
        <TextField label="Consignee" value={text} onValueChange={setText} hint="Who receives the goods." />
        <TextField label="Address" value="" onValueChange={() => {}} error="Where do they go?" required />
        <NumberField label="Weight" unit="kg" value={number} onValueChange={setNumber} />
        <DateTimeField label="Window opens" value={when} onValueChange={setWhen} />
        <Select
          label="Route"
          value={choice}
          onValueChange={setChoice}
          placeholder="Choose a route…"
          options={[
            { value: "north", label: "North loop" },
            { value: "south", label: "South loop" },
          ]}
        />
        <TextField label="Disabled" value="Read only" onValueChange={() => {}} disabled />
      </div>
    </Section>
  );
}

function Choices() {
  const [view, setView] = useState<"all" | "open" | "planned">("all");
  return (
    <Section title="SegmentedControl" description="One choice among a few, all in sight; arrow keys move the choice.">
      <SegmentedControl
        label="Filter by status"
        value={view}
        onChange={setView}
        segments={[
          { value: "all", label: "All", count: 12 },
          { value: "open", label: "Open", count: 5 },
          { value: "planned", label: "Planned", count: 7 },
        ]}
      />
    </Section>
  );
}

function StatusAndBadges() {
  return (
    <Section
      title="Badge and StatusPill"
      description="Tones for counts and tags; pills for every order and route status of the contract."
    >
      <div className="sl-inline">
        <Badge>Neutral</Badge>
        <Badge tone="info">Info</Badge>
        <Badge tone="primary">Primary</Badge>
        <Badge tone="success">Success</Badge>
        <Badge tone="warning">Warning</Badge>
        <Badge tone="danger">Danger</Badge>
      </div>
      <div className="sl-inline">
        {(
          [
            "ORDER_STATUS_OPEN",
            "ORDER_STATUS_PLANNED",
            "ORDER_STATUS_DISPATCHED",
            "ORDER_STATUS_DELIVERED",
            "ORDER_STATUS_CANCELLED",
          ] as const
        ).map((status) => (
          <StatusPill key={status} kind="order" status={status} />
        ))}
      </div>
      <div className="sl-inline">
        {(["ROUTE_STATUS_PLANNING", "ROUTE_STATUS_DISPATCHED", "ROUTE_STATUS_COMPLETED"] as const).map((status) => (
          <StatusPill key={status} kind="route" status={status} />
        ))}
      </div>
    </Section>
  );
}

type SampleRow = {
  id: string;
  consignee: string;
  weight: number;
  status: "ORDER_STATUS_OPEN" | "ORDER_STATUS_PLANNED";
};
const sampleRows: SampleRow[] = [
  { id: "1", consignee: "Acme Retail", weight: 420, status: "ORDER_STATUS_OPEN" },
  { id: "2", consignee: "Globex Foods", weight: 180.5, status: "ORDER_STATUS_PLANNED" },
];

function Surfaces() {
  return (
    <Section title="Card, Panel, DataTable, ListRow, EmptyState" description="Surfaces and the rows that fill them.">
      <div className="gallery__grid">
        <Card>
          <CardBody>A Card: a surface with a border and a light shadow.</CardBody>
        </Card>
        <Card interactive>
          <CardBody>An interactive Card lifts on hover.</CardBody>
        </Card>
      </div>
      <Panel title="Panel with a table" subtitle="flush body" actions={<Button size="sm">Action</Button>} flush>
        <DataTable
          caption="Sample orders"
          rows={sampleRows}
          rowKey={(row) => row.id}
          columns={[
            { key: "consignee", header: "Consignee", render: (row) => row.consignee },
            { key: "weight", header: "Weight", numeric: true, render: (row) => `${row.weight} kg` },
            { key: "status", header: "Status", render: (row) => <StatusPill kind="order" status={row.status} /> },
          ]}
        />
      </Panel>
      <Card>
        <ul className="sl-list" aria-label="Sample list">
          <ListRow
            title="Rotterdam depot"
            meta="3 routes"
            trailing={<Badge tone="info">12 open orders</Badge>}
            href="#"
          />
          <ListRow
            leading={<Avatar name="Ana Alvarez" />}
            title="Ana Alvarez"
            meta="Dispatcher"
            trailing={<Badge>Online</Badge>}
          />
        </ul>
      </Card>
      <Card>
        <EmptyState
          title="No orders yet"
          description="Create the first one to start planning."
          action={
            <Button variant="primary" icon="plus">
              New order
            </Button>
          }
        />
      </Card>
    </Section>
  );
}

function Feedback() {
  const [open, setOpen] = useState(false);
  const [confirming, setConfirming] = useState<"plain" | "failed" | null>(null);
  return (
    <Section
      title="Dialog, ConfirmDialog, Toast, ErrorBanner, Notice"
      description="Modal questions, confirmations, short-lived messages, errors with their typed code, and notices."
    >
      <div className="sl-inline">
        <Button onClick={() => setOpen(true)}>Open a dialog</Button>
        <Button variant="danger" onClick={() => setConfirming("plain")}>
          Ask before removing
        </Button>
        <Button onClick={() => setConfirming("failed")}>A confirmation that failed</Button>
      </div>
      <ConfirmDialog
        open={confirming !== null}
        title="Remove Ben Brandt?"
        confirmLabel="Remove member"
        tone="danger"
        error={
          confirming === "failed"
            ? {
                title: "Not possible right now",
                message: "An organization keeps at least one owner.",
                code: "FAILED_PRECONDITION",
              }
            : undefined
        }
        onConfirm={() => setConfirming(null)}
        onCancel={() => setConfirming(null)}
      >
        <p>Ben loses access at once: every device he uses is signed out. Focus starts on Cancel.</p>
      </ConfirmDialog>
      <Dialog open={open} title="A dialog" onClose={() => setOpen(false)}>
        <p style={{ marginTop: 0 }}>Focus is trapped inside; Escape or the backdrop closes it.</p>
        <div className="sl-form__actions">
          <Button variant="primary" onClick={() => setOpen(false)}>
            Done
          </Button>
        </div>
      </Dialog>
      <div className="gallery__grid">
        <Toast
          toast={{
            id: "a",
            tone: "warning",
            title: "Someone changed this first",
            message: "Showing the latest version; please try again.",
            code: "CONFLICT",
          }}
          onDismiss={() => {}}
        />
        <Toast
          toast={{
            id: "b",
            tone: "error",
            title: "Not possible right now",
            message: "The route would exceed its capacity.",
            code: "FAILED_PRECONDITION",
          }}
          onDismiss={() => {}}
        />
        <Toast toast={{ id: "c", tone: "success", title: "Route dispatched" }} onDismiss={() => {}} />
        <Toast
          toast={{ id: "d", tone: "info", title: "Back online", message: "Everything you missed is in." }}
          onDismiss={() => {}}
        />
      </div>
      <ErrorBanner
        title="You may not do this"
        message="Viewers can read plans but not change them."
        code="PERMISSION_DENIED"
      />
      <ErrorBanner
        tone="warning"
        title="Working offline"
        message="Your changes are sent when the connection is back."
        action={<Button size="sm">Retry now</Button>}
      />
      <Notice title="Password changed" message="Your other devices were signed out." />
      <Notice tone="info" title="Invitations last seven days" message="Invite them again after that." />
    </Section>
  );
}

function People() {
  const people = [
    { id: "u1", name: "Ana Alvarez" },
    { id: "u2", name: "Ben Brandt" },
    { id: "u3", name: "Vera Vogel" },
    { id: "u4", name: "Gina Grant" },
  ];
  return (
    <Section title="Avatar, PresenceStack, ConnectionStatus" description="Who is here, and whether the app is live.">
      <div className="sl-inline" style={{ gap: 24 }}>
        <Avatar name="Ana Alvarez" size="sm" />
        <Avatar name="Ben Brandt" />
        <Avatar name="Vera Vogel" size="lg" />
        <PresenceStack people={people.slice(0, 2)} />
        <PresenceStack people={people} max={2} />
        <PresenceStack people={[]} />
      </div>
      <div className="sl-inline" style={{ gap: 24 }}>
        <ConnectionStatus state="connected" />
        <ConnectionStatus state="connecting" />
        <ConnectionStatus state="reconnecting" detail="retrying in 4 s" />
        <ConnectionStatus state="offline" />
      </div>
    </Section>
  );
}

function ShellParts() {
  const [tab, setTab] = useState("members");
  return (
    <Section
      title="AppLauncher, Taskbar (and Shell), NavTabs"
      description="The frame of the app: apps and their modules, the bar with the connection status always in sight, an app's pages as tabs."
    >
      <NavTabs
        label="Sample modules"
        current={tab}
        onNavigate={(href) => setTab(href.slice(1))}
        tabs={[
          { id: "members", label: "Members", href: "#members" },
          { id: "roles", label: "Roles", href: "#roles" },
          { id: "sessions", label: "Sessions", href: "#sessions" },
        ]}
      />
      <AppLauncher apps={apps} onNavigate={() => {}} />
      <div className="gallery__taskbar">
        <Taskbar
          launcherHref="#"
          tasks={[
            { id: "orders", label: "Orders board", href: "#", current: true },
            { id: "routes", label: "Routes", href: "#" },
          ]}
          status={<ConnectionStatus state="connected" />}
          user={{ id: "u1", name: "Ana Alvarez", organization: "Acme Logistics" }}
          onSignOut={() => {}}
          onNavigate={() => {}}
        />
      </div>
    </Section>
  );
}

function DispatchWidgets() {
  const [stops, setStops] = useState<StopItem[]>([
    { id: "a", title: "Acme Retail", detail: "Coolsingel 40, Rotterdam · 08:00 – 10:00", weightKg: 420 },
    { id: "b", title: "Globex Foods", detail: "Weena 505, Rotterdam · 09:00 – 12:00", weightKg: 180 },
    { id: "c", title: "Initech", detail: "Blaak 16, Rotterdam · 13:00 – 15:00", weightKg: 260 },
  ]);
  const load = stops.reduce((sum, stop) => sum + (stop.weightKg ?? 0), 0);
  return (
    <Section
      title="StopList and LoadBar"
      description="A route's stops, reorderable by buttons, Alt+Arrow keys or drag and drop; load against capacity."
    >
      <div className="gallery__grid">
        <Card>
          <StopList
            label="Sample stops"
            stops={stops}
            onMove={(id, to) =>
              setStops((current) =>
                moveItem(
                  current,
                  current.findIndex((stop) => stop.id === id),
                  to,
                ),
              )
            }
            onRemove={(id) => setStops((current) => current.filter((stop) => stop.id !== id))}
          />
        </Card>
        <Card>
          <StopList label="Locked stops" stops={stops.slice(0, 2)} onMove={() => {}} disabled />
        </Card>
      </div>
      <div className="gallery__grid">
        <LoadBar loadKg={load} capacityKg={2000} label="Comfortable" />
        <LoadBar loadKg={1800} capacityKg={2000} label="Tight" />
        <LoadBar loadKg={2300} capacityKg={2000} label="Over capacity" />
      </div>
    </Section>
  );
}
