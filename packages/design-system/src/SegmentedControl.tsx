import { useRef, type KeyboardEvent } from "react";
import { classNames } from "./Button";

export interface Segment<Value extends string> {
  value: Value;
  label: string;
  /** A count shown after the label, e.g. how many rows the filter keeps. */
  count?: number;
}

export interface SegmentedControlProps<Value extends string> {
  /** Names the group, e.g. "Filter by status". */
  label: string;
  segments: ReadonlyArray<Segment<Value>>;
  value: Value;
  onChange: (value: Value) => void;
}

/**
 * One choice among a few, all in sight: a radio group drawn as joined buttons. Arrow keys move
 * the choice, as in any radio group; Tab enters and leaves the group as one stop.
 */
export function SegmentedControl<Value extends string>({
  label,
  segments,
  value,
  onChange,
}: SegmentedControlProps<Value>) {
  const refs = useRef<Array<HTMLButtonElement | null>>([]);
  const onKeyDown = (event: KeyboardEvent, index: number) => {
    const step =
      event.key === "ArrowRight" || event.key === "ArrowDown"
        ? 1
        : event.key === "ArrowLeft" || event.key === "ArrowUp"
          ? -1
          : 0;
    if (!step) return;
    event.preventDefault();
    const next = (index + step + segments.length) % segments.length;
    const segment = segments[next];
    if (!segment) return;
    onChange(segment.value);
    refs.current[next]?.focus();
  };
  return (
    <div className="sl-segmented" role="radiogroup" aria-label={label}>
      {segments.map((segment, index) => {
        const checked = segment.value === value;
        return (
          <button
            key={segment.value}
            ref={(element) => {
              refs.current[index] = element;
            }}
            type="button"
            role="radio"
            aria-checked={checked}
            tabIndex={checked ? 0 : -1}
            className={classNames("sl-segmented__option", checked && "sl-segmented__option--checked")}
            onClick={() => onChange(segment.value)}
            onKeyDown={(event) => onKeyDown(event, index)}
          >
            {segment.label}
            {segment.count !== undefined ? <span className="sl-segmented__count">{segment.count}</span> : null}
          </button>
        );
      })}
    </div>
  );
}
