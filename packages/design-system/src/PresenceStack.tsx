import { Avatar } from "./Avatar";

export interface PresentPerson {
  id: string;
  name: string;
}

export interface PresenceStackProps {
  people: readonly PresentPerson[];
  /** Names the list, e.g. "Also viewing". */
  label?: string;
  /** Avatars shown before the rest fold into "+N". */
  max?: number;
}

/** Overlapping avatars of who is looking at the same thing right now. */
export function PresenceStack({ people, label = "Also viewing", max = 5 }: PresenceStackProps) {
  const shown = people.slice(0, max);
  const hidden = people.length - shown.length;
  return (
    <div className="sl-presence">
      <span className="sl-presence__label" aria-hidden="true">
        {people.length === 0 ? "Only you" : label}
      </span>
      <ul className="sl-presence__avatars" aria-label={label}>
        {shown.map((person) => (
          <li key={person.id} aria-label={person.name}>
            <Avatar name={person.name} id={person.id} size="sm" />
          </li>
        ))}
        {hidden > 0 ? (
          <li aria-label={`${hidden} more`}>
            <span
              className="sl-avatar sl-avatar--sm"
              style={{ background: "var(--sl-color-text-muted)" }}
              aria-hidden="true"
            >
              +{hidden}
            </span>
          </li>
        ) : null}
      </ul>
    </div>
  );
}
