import type { SelectHTMLAttributes } from "react";
import { FormField } from "./FormField";

export interface SelectOption {
  value: string;
  label: string;
  disabled?: boolean;
}

export interface SelectProps extends Omit<SelectHTMLAttributes<HTMLSelectElement>, "onChange" | "value" | "id"> {
  label: string;
  value: string;
  onValueChange: (value: string) => void;
  options: readonly SelectOption[];
  /** A first, empty choice such as "Choose a route…". */
  placeholder?: string;
  hint?: string;
  error?: string;
  hideLabel?: boolean;
}

export function Select({
  label,
  value,
  onValueChange,
  options,
  placeholder,
  hint,
  error,
  required,
  hideLabel,
  ...rest
}: SelectProps) {
  return (
    <FormField label={label} hint={hint} error={error} required={required} hideLabel={hideLabel}>
      {(control) => (
        <select
          {...rest}
          {...control}
          className="sl-input"
          value={value}
          onChange={(event) => onValueChange(event.target.value)}
        >
          {placeholder !== undefined ? <option value="">{placeholder}</option> : null}
          {options.map((option) => (
            <option key={option.value} value={option.value} disabled={option.disabled}>
              {option.label}
            </option>
          ))}
        </select>
      )}
    </FormField>
  );
}
