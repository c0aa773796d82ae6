import { useId, type ReactNode } from "react";

/** What a control inside a FormField spreads on itself so its label, hint and error are announced. */
export interface FieldControlProps {
  id: string;
  "aria-invalid": boolean | undefined;
  "aria-describedby": string | undefined;
  required: boolean | undefined;
}

export interface FormFieldProps {
  label: string;
  /** Shown under the control and announced with it. */
  hint?: string;
  /** Replaces the hint, marks the control invalid. */
  error?: string;
  required?: boolean;
  /** Hides the label visually; it is still the control's accessible name. */
  hideLabel?: boolean;
  children: (control: FieldControlProps) => ReactNode;
}

export function FormField({ label, hint, error, required, hideLabel, children }: FormFieldProps) {
  const id = useId();
  const messageId = `${id}-message`;
  const message = error ?? hint;
  return (
    <div className="sl-field">
      <label htmlFor={id} className={hideLabel ? "sl-visually-hidden" : "sl-field__label"}>
        {label}
        {required ? <span aria-hidden="true"> *</span> : null}
      </label>
      {children({
        id,
        "aria-invalid": error ? true : undefined,
        "aria-describedby": message ? messageId : undefined,
        required: required || undefined,
      })}
      {message ? (
        <span
          id={messageId}
          className={error ? "sl-field__error" : "sl-field__hint"}
          role={error ? "alert" : undefined}
        >
          {message}
        </span>
      ) : null}
    </div>
  );
}
