import { useState, type FormEvent } from "react";
import { Button, DateTimeField, NumberField, TextField, parseNumber } from "@sluice/design-system";
import type { CreateOrderRequestJson } from "@sluice/contracts/gen/dispatch/v1/commands_pb";

/**
 * What the order form produces: the fields CreateOrder and EditOrder share, taken from the
 * generated request type, with the weight as the plain number the form checked.
 */
export type OrderDraft = Required<Pick<CreateOrderRequestJson, "consignee" | "address" | "timeWindow">> & {
  weightKg: number;
};

export interface OrderFormProps {
  initial?: Partial<OrderDraft>;
  submitLabel: string;
  busy?: boolean;
  onSubmit: (draft: OrderDraft) => void;
  onCancel?: () => void;
}

type Errors = Partial<Record<"consignee" | "address" | "weight" | "start" | "end", string>>;

/** Checks the rules the .proto declares, so people see them before the server refuses. */
function validate(fields: { consignee: string; address: string; weight: string; start: string; end: string }): Errors {
  const errors: Errors = {};
  if (!fields.consignee.trim()) errors.consignee = "Who receives the goods?";
  if (!fields.address.trim()) errors.address = "Where do they go?";
  const weight = parseNumber(fields.weight);
  if (weight === undefined || weight <= 0 || weight > 100_000) errors.weight = "Between 0 and 100 000 kg";
  if (!fields.start) errors.start = "When does the window open?";
  if (!fields.end) errors.end = "When does it close?";
  else if (fields.start && new Date(fields.end) <= new Date(fields.start)) errors.end = "Must be after the start";
  return errors;
}

function defaultWindow(): { start: string; end: string } {
  const start = new Date();
  start.setDate(start.getDate() + 1);
  start.setHours(8, 0, 0, 0);
  const end = new Date(start);
  end.setHours(12);
  return { start: start.toISOString(), end: end.toISOString() };
}

export function OrderForm({ initial, submitLabel, busy, onSubmit, onCancel }: OrderFormProps) {
  const window =
    initial?.timeWindow?.start && initial.timeWindow.end
      ? { start: initial.timeWindow.start, end: initial.timeWindow.end }
      : defaultWindow();
  const [consignee, setConsignee] = useState(initial?.consignee ?? "");
  const [address, setAddress] = useState(initial?.address ?? "");
  const [weight, setWeight] = useState(initial?.weightKg !== undefined ? String(initial.weightKg) : "");
  const [start, setStart] = useState(window.start);
  const [end, setEnd] = useState(window.end);
  const [errors, setErrors] = useState<Errors>({});

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found = validate({ consignee, address, weight, start, end });
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    onSubmit({
      consignee: consignee.trim(),
      address: address.trim(),
      weightKg: parseNumber(weight) ?? 0,
      timeWindow: { start, end },
    });
  };

  return (
    <form className="sl-form" onSubmit={submit} noValidate aria-label={submitLabel}>
      <TextField
        label="Consignee"
        value={consignee}
        onValueChange={setConsignee}
        error={errors.consignee}
        required
        autoComplete="organization"
      />
      <TextField
        label="Address"
        value={address}
        onValueChange={setAddress}
        error={errors.address}
        required
        autoComplete="street-address"
      />
      <NumberField
        label="Weight"
        unit="kg"
        value={weight}
        onValueChange={setWeight}
        error={errors.weight}
        required
        min={0}
        step="any"
      />
      <div className="sl-form__row">
        <DateTimeField label="Window opens" value={start} onValueChange={setStart} error={errors.start} required />
        <DateTimeField label="Window closes" value={end} onValueChange={setEnd} error={errors.end} required />
      </div>
      <div className="sl-form__actions">
        {onCancel ? (
          <Button variant="ghost" onClick={onCancel}>
            Cancel
          </Button>
        ) : null}
        <Button type="submit" variant="primary" busy={busy}>
          {submitLabel}
        </Button>
      </div>
    </form>
  );
}
