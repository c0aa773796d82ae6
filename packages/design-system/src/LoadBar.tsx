import { classNames } from "./Button";

export interface LoadBarProps {
  loadKg: number;
  capacityKg: number;
  /** Names the meter; shown above it unless `hideLabel`. */
  label?: string;
  /** Keeps only the figures visible, e.g. in a table whose column already says "Load". */
  hideLabel?: boolean;
}

export type LoadTone = "ok" | "warning" | "over";

/** Above 85 % of capacity is tight, above 100 % is over. */
export function loadTone(loadKg: number, capacityKg: number): LoadTone {
  if (capacityKg <= 0) return loadKg > 0 ? "over" : "ok";
  const ratio = loadKg / capacityKg;
  return ratio > 1 ? "over" : ratio > 0.85 ? "warning" : "ok";
}

const kg = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/** A vehicle's load against its capacity: a meter, green, amber when tight, red when over. */
export function LoadBar({ loadKg, capacityKg, label = "Load", hideLabel = false }: LoadBarProps) {
  const tone = loadTone(loadKg, capacityKg);
  const percent = capacityKg > 0 ? Math.round((loadKg / capacityKg) * 100) : 0;
  const text = `${kg.format(loadKg)} of ${kg.format(capacityKg)} kg`;
  return (
    <div className={classNames("sl-load", tone !== "ok" && `sl-load--${tone}`)}>
      <div className="sl-load__label">
        {hideLabel ? <span /> : <span>{label}</span>}
        <span>
          {text} · {percent}%
        </span>
      </div>
      <div
        className="sl-load__track"
        role="meter"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={capacityKg}
        aria-valuenow={loadKg}
        aria-valuetext={`${text}, ${percent}%`}
      >
        <div className="sl-load__fill" style={{ width: `${Math.min(percent, 100)}%` }} />
      </div>
    </div>
  );
}
