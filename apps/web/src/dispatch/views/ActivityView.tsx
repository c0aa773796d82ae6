import { Avatar, EmptyState, Panel } from "@sluice/design-system";
import type { ActivityEntryJson } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import { formatAgo } from "../format";

export interface ActivityViewProps {
  entries: readonly ActivityEntryJson[];
  loading: boolean;
  /** The clock the relative times are measured from. */
  now: number;
}

/** What happened in the project, newest first, in sentences, with who did it. */
export function ActivityView({ entries, loading, now }: ActivityViewProps) {
  return (
    <Panel title="Activity" subtitle={loading ? "Loading…" : "Newest first"} flush>
      {entries.length === 0 && !loading ? (
        <EmptyState
          icon="activity"
          title="Nothing has happened yet"
          description="Orders and routes created and changed show up here as they happen."
        />
      ) : (
        <ul className="sl-list" aria-label="Activity">
          {entries.map((entry) => (
            <li key={entry.globalPosition} className="sl-list-row" data-testid="activity-entry">
              <Avatar name={entry.userName || "System"} id={entry.userId} size="sm" />
              <div className="sl-list-row__main">
                <div>{entry.summary}</div>
                <div className="sl-list-row__meta">
                  <time
                    dateTime={entry.occurredAt}
                    title={entry.occurredAt ? new Date(entry.occurredAt).toLocaleString() : undefined}
                  >
                    {formatAgo(entry.occurredAt, now)}
                  </time>
                </div>
              </div>
            </li>
          ))}
        </ul>
      )}
    </Panel>
  );
}
