import { useState } from "react";
import { Badge, Button, ConfirmDialog, DataTable, EmptyState, ErrorBanner, Panel } from "@sluice/design-system";
import type { ApiError, DeviceSession } from "../api";
import { describeError } from "../errors";
import { describeUserAgent, formatDateTime } from "../format";
import type { ActionState } from "./MembersView";

export interface SessionsViewProps {
  /** Undefined while loading. */
  sessions: readonly DeviceSession[] | undefined;
  loadError: ApiError | undefined;
  signingOut: ActionState;
  /** Signs one other device out; resolve when the server agreed. */
  onSignOut: (id: string) => Promise<void>;
  /** Signs every device out, this one included. */
  onSignOutEverywhere: () => Promise<void>;
  onDismissError: () => void;
}

type Pending = { kind: "one"; session: DeviceSession } | { kind: "all" };

/** The devices signed in as the user: when each signed in and was last used, and a way to sign each out. */
export function SessionsView({
  sessions,
  loadError,
  signingOut,
  onSignOut,
  onSignOutEverywhere,
  onDismissError,
}: SessionsViewProps) {
  const [pending, setPending] = useState<Pending | null>(null);
  const others = (sessions ?? []).filter((session) => !session.current).length;
  return (
    <Panel
      title="Your sessions"
      subtitle="Every device signed in as you. Sign out one you do not recognise, or all of them."
      actions={
        <Button variant="danger" icon="signOut" size="sm" onClick={() => setPending({ kind: "all" })}>
          Sign out everywhere
        </Button>
      }
      flush
    >
      {loadError ? <ErrorBanner {...describeError(loadError)} /> : null}
      {sessions === undefined && !loadError ? <EmptyState icon="monitor" title="Loading sessions…" /> : null}
      {sessions ? (
        <DataTable
          caption="Your sessions"
          rows={byRecentUse(sessions)}
          rowKey={(session) => session.id}
          rowProps={(session) => ({
            "data-testid": "session-row",
            "data-current": session.current ? "true" : undefined,
          })}
          columns={[
            {
              key: "device",
              header: "Device",
              render: (session) => (
                <span className="settings-device">
                  <span title={session.userAgent ?? undefined}>{describeUserAgent(session.userAgent)}</span>
                  {session.current ? <Badge tone="success">This device</Badge> : null}
                </span>
              ),
            },
            { key: "created", header: "Signed in", render: (session) => formatDateTime(session.createdAt) },
            { key: "used", header: "Last used", render: (session) => formatDateTime(session.lastUsedAt) },
            {
              key: "actions",
              header: "Actions",
              render: (session) =>
                session.current ? null : (
                  <Button
                    size="sm"
                    variant="ghost"
                    icon="signOut"
                    aria-label={`Sign out ${describeUserAgent(session.userAgent)}, signed in ${formatDateTime(session.createdAt)}`}
                    onClick={() => setPending({ kind: "one", session })}
                  >
                    Sign out
                  </Button>
                ),
            },
          ]}
        />
      ) : null}

      <ConfirmDialog
        open={pending !== null}
        title={
          pending?.kind === "all"
            ? "Sign out everywhere?"
            : pending
              ? `Sign out ${describeUserAgent(pending.session.userAgent)}?`
              : ""
        }
        confirmLabel={pending?.kind === "all" ? "Sign out everywhere" : "Sign out device"}
        tone="danger"
        busy={signingOut.busy}
        error={signingOut.error && describeError(signingOut.error)}
        onCancel={() => {
          setPending(null);
          onDismissError();
        }}
        onConfirm={() => {
          if (!pending) return;
          const done = pending.kind === "all" ? onSignOutEverywhere() : onSignOut(pending.session.id);
          done.then(
            () => setPending(null),
            () => undefined,
          );
        }}
      >
        {pending?.kind === "all" ? (
          <p>
            Every device signed in as you, this one too
            {others > 0 ? ` and ${others} other${others === 1 ? "" : "s"}` : ""}, must sign in again.
          </p>
        ) : (
          <p>That device must sign in again; its open windows close within seconds.</p>
        )}
      </ConfirmDialog>
    </Panel>
  );
}

/** This device first, then the most recently used. */
function byRecentUse(sessions: readonly DeviceSession[]): DeviceSession[] {
  return [...sessions].sort((a, b) => Number(b.current) - Number(a.current) || b.lastUsedAt - a.lastUsedAt);
}
