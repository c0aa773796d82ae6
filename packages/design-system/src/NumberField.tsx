import type { InputHTMLAttributes } from "react";
import { FormField } from "./FormField";

export interface NumberFieldProps extends Omit<
  InputHTMLAttributes<HTMLInputElement>,
  "onChange" | "value" | "id" | "type"
> {
  label: string;
  /** The text as typed, so half-typed numbers ("12.") survive re-renders; parse with `parseNumber`. */
  value: string;
  onValueChange: (value: string) => void;
  /** A unit shown in the label, such as "kg". */
  unit?: string;
  hint?: string;
  error?: string;
}

export function NumberField({ label, value, onValueChange, unit, hint, error, required, ...rest }: NumberFieldProps) {
  return (
    <FormField label={unit ? `${label} (${unit})` : label} hint={hint} error={error} required={required}>
      {(control) => (
        <input
          inputMode="decimal"
          {...rest}
          {...control}
          type="number"
          className="sl-input"
          value={value}
          onChange={(event) => onValueChange(event.target.value)}
        />
      )}
    </FormField>
  );
}

/** The number a NumberField holds, or undefined when it is empty or not a finite number. */
export function parseNumber(text: string): number | undefined {
  if (text.trim() === "") return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}
