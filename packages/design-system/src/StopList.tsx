import { useState, type KeyboardEvent, type ReactNode } from "react";
import { IconButton } from "./Button";
import { Icon } from "./Icon";

export interface StopItem {
  id: string;
  title: string;
  detail?: ReactNode;
  weightKg?: number;
}

export interface StopListProps {
  stops: readonly StopItem[];
  /** Names the list, e.g. "Stops of North". */
  label: string;
  /** Asks to move a stop to a zero-based position in the new order; see `moveItem`. */
  onMove: (id: string, toIndex: number) => void;
  onRemove?: (id: string) => void;
  /** Locks the order, e.g. once the route left the depot. */
  disabled?: boolean;
}

/**
 * A route's stops in order, reorderable three ways: the move up / move down buttons, Alt+Arrow
 * keys on a focused stop, and drag and drop. Moves are announced to screen readers.
 */
export function StopList({ stops, label, onMove, onRemove, disabled = false }: StopListProps) {
  const [dragging, setDragging] = useState<string | null>(null);
  const [dropIndex, setDropIndex] = useState<number | null>(null);
  const [announcement, setAnnouncement] = useState("");

  const move = (id: string, toIndex: number) => {
    const from = stops.findIndex((stop) => stop.id === id);
    if (disabled || from < 0 || toIndex < 0 || toIndex >= stops.length || toIndex === from) return;
    onMove(id, toIndex);
    setAnnouncement(`Moved ${stops[from]?.title ?? "stop"} to position ${toIndex + 1} of ${stops.length}.`);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLLIElement>, id: string, index: number) => {
    if (!event.altKey || event.target !== event.currentTarget) return;
    if (event.key === "ArrowUp") move(id, index - 1);
    else if (event.key === "ArrowDown") move(id, index + 1);
    else return;
    event.preventDefault();
  };

  return (
    <>
      <ol className="sl-stops" aria-label={label}>
        {stops.map((stop, index) => (
          <li
            key={stop.id}
            className="sl-stop"
            data-testid="stop"
            data-stop-id={stop.id}
            aria-label={`Stop ${index + 1}: ${stop.title}`}
            aria-keyshortcuts={disabled ? undefined : "Alt+ArrowUp Alt+ArrowDown"}
            tabIndex={0}
            draggable={!disabled}
            data-dragging={dragging === stop.id || undefined}
            data-drop-target={dropIndex === index && dragging !== stop.id ? true : undefined}
            onKeyDown={(event) => onKeyDown(event, stop.id, index)}
            onDragStart={(event) => {
              setDragging(stop.id);
              event.dataTransfer.effectAllowed = "move";
              event.dataTransfer.setData("text/plain", stop.id);
            }}
            onDragOver={(event) => {
              if (!dragging) return;
              event.preventDefault();
              setDropIndex(index);
            }}
            onDrop={(event) => {
              event.preventDefault();
              if (dragging) move(dragging, index);
              setDragging(null);
              setDropIndex(null);
            }}
            onDragEnd={() => {
              setDragging(null);
              setDropIndex(null);
            }}
          >
            {!disabled ? (
              <span className="sl-stop__handle" aria-hidden="true">
                <Icon name="grip" />
              </span>
            ) : null}
            <span className="sl-stop__index" aria-hidden="true">
              {index + 1}
            </span>
            <div className="sl-stop__main">
              <div className="sl-stop__title">{stop.title}</div>
              {stop.detail ? <div className="sl-stop__meta">{stop.detail}</div> : null}
            </div>
            {stop.weightKg !== undefined ? <span className="sl-stop__weight">{stop.weightKg} kg</span> : null}
            {!disabled ? (
              <div className="sl-stop__actions">
                <IconButton
                  icon="up"
                  size="sm"
                  label={`Move ${stop.title} up`}
                  disabled={index === 0}
                  onClick={() => move(stop.id, index - 1)}
                />
                <IconButton
                  icon="down"
                  size="sm"
                  label={`Move ${stop.title} down`}
                  disabled={index === stops.length - 1}
                  onClick={() => move(stop.id, index + 1)}
                />
                {onRemove ? (
                  <IconButton
                    icon="close"
                    size="sm"
                    label={`Take ${stop.title} off the route`}
                    onClick={() => onRemove(stop.id)}
                  />
                ) : null}
              </div>
            ) : null}
          </li>
        ))}
      </ol>
      <div className="sl-visually-hidden" aria-live="polite">
        {announcement}
      </div>
    </>
  );
}

/** The list with the item at `from` moved to `to` (both zero-based); a new array, the input untouched. */
export function moveItem<T>(items: readonly T[], from: number, to: number): T[] {
  const next = items.slice();
  if (from < 0 || from >= next.length || to < 0 || to >= next.length) return next;
  const [item] = next.splice(from, 1);
  next.splice(to, 0, item as T);
  return next;
}
