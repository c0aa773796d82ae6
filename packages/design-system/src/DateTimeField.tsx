import type { InputHTMLAttributes } from "react";
import { FormField } from "./FormField";

export interface DateTimeFieldProps extends Omit<
  InputHTMLAttributes<HTMLInputElement>,
  "onChange" | "value" | "id" | "type"
> {
  label: string;
  /** An instant as RFC 3339 (the JSON mapping of google.protobuf.Timestamp), or "" for none. */
  value: string;
  onValueChange: (value: string) => void;
  hint?: string;
  error?: string;
}

/** Edits an instant in the browser's local time, while the value in and out stays RFC 3339 UTC. */
export function DateTimeField({ label, value, onValueChange, hint, error, required, ...rest }: DateTimeFieldProps) {
  return (
    <FormField label={label} hint={hint} error={error} required={required}>
      {(control) => (
        <input
          {...rest}
          {...control}
          type="datetime-local"
          className="sl-input"
          value={toDateTimeLocal(value)}
          onChange={(event) => onValueChange(fromDateTimeLocal(event.target.value))}
        />
      )}
    </FormField>
  );
}

const pad = (n: number) => String(n).padStart(2, "0");

/** "2026-03-01T08:30:00Z" -> "2026-03-01T09:30" in a UTC+1 browser; "" stays "". */
export function toDateTimeLocal(instant: string): string {
  if (!instant) return "";
  const date = new Date(instant);
  if (Number.isNaN(date.getTime())) return "";
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** The inverse of toDateTimeLocal: local wall time to an RFC 3339 instant in UTC. */
export function fromDateTimeLocal(local: string): string {
  if (!local) return "";
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
}
