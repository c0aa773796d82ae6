import { useState, type FormEvent } from "react";
import {
  Button,
  DataTable,
  Dialog,
  EmptyState,
  LoadBar,
  NumberField,
  Panel,
  StatusPill,
  TextField,
  followLink,
  parseNumber,
} from "@sluice/design-system";
import type { CreateRouteRequestJson } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import type { RouteSummaryJson } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import { num } from "../format";

/** What the new-route form produces, from the generated CreateRoute request. */
export type RouteDraft = Required<Pick<CreateRouteRequestJson, "name">> & { vehicleCapacityKg: number };

export interface RoutesViewProps {
  routes: readonly RouteSummaryJson[];
  loading: boolean;
  routeHref: (routeId: string) => string;
  onNavigate: (href: string) => void;
  onCreate: (draft: RouteDraft) => Promise<unknown>;
  /** The user may read but not create routes (a viewer). */
  readOnly?: boolean;
}

/** The project's routes with their load, and a way to start a new one. */
export function RoutesView({ routes, loading, routeHref, onNavigate, onCreate, readOnly = false }: RoutesViewProps) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [name, setName] = useState("");
  const [capacity, setCapacity] = useState("");
  const [errors, setErrors] = useState<{ name?: string; capacity?: string }>({});

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const kg = parseNumber(capacity);
    const found = {
      name: name.trim() ? undefined : "Give the route a name",
      capacity: kg !== undefined && kg > 0 && kg <= 100_000 ? undefined : "Between 0 and 100 000 kg",
    };
    setErrors(found);
    if (found.name || found.capacity) return;
    setBusy(true);
    onCreate({ name: name.trim(), vehicleCapacityKg: kg ?? 0 })
      .then(
        () => {
          setOpen(false);
          setName("");
          setCapacity("");
        },
        () => undefined,
      )
      .finally(() => setBusy(false));
  };

  return (
    <>
      <Panel
        title="Routes"
        subtitle={loading ? "Loading…" : `${routes.length} routes`}
        actions={
          readOnly ? undefined : (
            <Button variant="primary" icon="plus" onClick={() => setOpen(true)}>
              New route
            </Button>
          )
        }
        flush
      >
        <DataTable
          caption="Routes"
          rows={routes}
          rowKey={(route) => route.routeId ?? ""}
          rowProps={(route) => ({ "data-testid": "route-row", "data-route-id": route.routeId })}
          columns={[
            {
              key: "name",
              header: "Route",
              render: (route) => (
                <a
                  href={routeHref(route.routeId ?? "")}
                  onClick={(event) => followLink(event, routeHref(route.routeId ?? ""), onNavigate)}
                  style={{ fontWeight: 500 }}
                >
                  {route.name}
                </a>
              ),
            },
            { key: "stops", header: "Stops", numeric: true, render: (route) => route.stopCount ?? 0 },
            {
              key: "load",
              header: "Load",
              render: (route) => (
                <LoadBar
                  loadKg={num(route.loadKg)}
                  capacityKg={num(route.vehicleCapacityKg)}
                  label={`Load of ${route.name}`}
                  hideLabel
                />
              ),
            },
            { key: "status", header: "Status", render: (route) => <StatusPill kind="route" status={route.status} /> },
          ]}
          empty={
            <EmptyState
              icon="route"
              title="No routes yet"
              description="A route is one vehicle's trip: give it a capacity, then put orders on it in the order they are delivered."
              action={
                readOnly ? undefined : (
                  <Button variant="primary" icon="plus" onClick={() => setOpen(true)}>
                    New route
                  </Button>
                )
              }
            />
          }
        />
      </Panel>
      <Dialog open={open} title="New route" onClose={() => setOpen(false)}>
        <form className="sl-form" onSubmit={submit} noValidate aria-label="Create route">
          <TextField
            label="Route name"
            value={name}
            onValueChange={setName}
            error={errors.name}
            required
            maxLength={120}
            placeholder="e.g. North loop"
          />
          <NumberField
            label="Vehicle capacity"
            unit="kg"
            value={capacity}
            onValueChange={setCapacity}
            error={errors.capacity}
            required
            min={0}
            step="any"
          />
          <div className="sl-form__actions">
            <Button variant="ghost" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button type="submit" variant="primary" busy={busy}>
              Create route
            </Button>
          </div>
        </form>
      </Dialog>
    </>
  );
}
