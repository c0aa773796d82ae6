import type { InputHTMLAttributes } from "react";
import { FormField } from "./FormField";

export interface TextFieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, "onChange" | "value" | "id"> {
  label: string;
  value: string;
  onValueChange: (value: string) => void;
  hint?: string;
  error?: string;
  hideLabel?: boolean;
}

export function TextField({
  label,
  value,
  onValueChange,
  hint,
  error,
  required,
  hideLabel,
  type = "text",
  ...rest
}: TextFieldProps) {
  return (
    <FormField label={label} hint={hint} error={error} required={required} hideLabel={hideLabel}>
      {(control) => (
        <input
          {...rest}
          {...control}
          type={type}
          className="sl-input"
          value={value}
          onChange={(event) => onValueChange(event.target.value)}
        />
      )}
    </FormField>
  );
}
