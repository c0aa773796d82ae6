export type ConnectionState = "connecting" | "connected" | "reconnecting" | "offline";

export interface ConnectionStatusProps {
  state: ConnectionState;
  /** More about the state, e.g. "next try in 4 s" or "3 calls waiting". */
  detail?: string;
}

const labels: Record<ConnectionState, string> = {
  connecting: "Connecting…",
  connected: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

/** The socket's state, always in sight: a coloured dot and a word, announced when it changes. */
export function ConnectionStatus({ state, detail }: ConnectionStatusProps) {
  return (
    <span
      className={`sl-connection sl-connection--${state}`}
      role="status"
      aria-live="polite"
      data-testid="connection-status"
      data-state={state}
    >
      <span className="sl-connection__dot" aria-hidden="true" />
      <span>
        {labels[state]}
        {detail ? <span className="sl-muted"> · {detail}</span> : null}
      </span>
    </span>
  );
}
