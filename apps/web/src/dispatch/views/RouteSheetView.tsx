import { useState, type FormEvent } from "react";
import {
  Button,
  EmptyState,
  LoadBar,
  Panel,
  PresenceStack,
  Select,
  StatusPill,
  StopList,
  type PresentPerson,
} from "@sluice/design-system";
import type { OrderViewJson, RouteSheetJson } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import { erasedLabel, formatKg, formatWindow, num } from "../format";

export interface RouteSheetViewProps {
  sheet: RouteSheetJson;
  /** Orders that may go on this route: open ones, and planned ones on other routes (they move). */
  candidates: readonly OrderViewJson[];
  /** Everyone else looking at this route now. */
  viewers: readonly PresentPerson[];
  onAssign: (orderId: string, position: number) => void;
  onMove: (orderId: string, toIndex: number) => void;
  onRemove: (orderId: string) => void;
  onDispatch: () => void;
  onComplete: () => void;
  /** The user may read but not plan (a viewer): the sheet without its controls. */
  readOnly?: boolean;
}

/** One route: its stops in delivery order, its load against the vehicle, who else is planning it. */
export function RouteSheetView({
  sheet,
  candidates,
  viewers,
  onAssign,
  onMove,
  onRemove,
  onDispatch,
  onComplete,
  readOnly = false,
}: RouteSheetViewProps) {
  const route = sheet.route ?? {};
  const stops = sheet.stops ?? [];
  const planning = route.status === "ROUTE_STATUS_PLANNING";
  // Planning controls show only while the route is being planned, and only to those who may plan.
  const editable = planning && !readOnly;
  const [orderId, setOrderId] = useState("");
  const [position, setPosition] = useState("end");

  const add = (event: FormEvent) => {
    event.preventDefault();
    if (!orderId) return;
    onAssign(orderId, position === "end" ? stops.length : Number(position));
    setOrderId("");
    setPosition("end");
  };

  return (
    <div className="route-sheet">
      <Panel
        title="Stops"
        subtitle={
          <span className="sl-inline">
            <StatusPill kind="route" status={route.status} />
            <span>
              {stops.length} stops · {formatKg(route.loadKg)}
            </span>
          </span>
        }
        actions={
          <>
            <PresenceStack people={viewers} label="Also viewing" />
            {editable ? (
              <Button variant="primary" icon="send" onClick={onDispatch} disabled={stops.length === 0}>
                Dispatch route
              </Button>
            ) : null}
            {route.status === "ROUTE_STATUS_DISPATCHED" && !readOnly ? (
              <Button variant="primary" icon="check" onClick={onComplete}>
                Complete route
              </Button>
            ) : null}
          </>
        }
        flush
      >
        <div style={{ padding: "12px 16px", borderBottom: "1px solid var(--sl-color-border)" }}>
          <LoadBar loadKg={num(route.loadKg)} capacityKg={num(route.vehicleCapacityKg)} label="Vehicle load" />
        </div>
        {stops.length === 0 ? (
          <EmptyState
            icon="route"
            title="No stops yet"
            description={editable ? "Add orders to plan this route." : "This route has no stops."}
          />
        ) : (
          <StopList
            label={`Stops of ${route.name ?? "route"}`}
            disabled={!editable}
            stops={stops.map((stop) => ({
              id: stop.orderId ?? "",
              title: stop.personalDataErased ? erasedLabel : (stop.consignee ?? "Order"),
              detail: `${stop.address ?? ""} · ${formatWindow(stop.timeWindow)}`,
              weightKg: num(stop.weightKg),
            }))}
            onMove={onMove}
            onRemove={onRemove}
          />
        )}
        {editable && stops.length > 1 ? (
          <p className="route-sheet__hint">Drag stops to reorder, or focus one and press Alt+↑ / Alt+↓.</p>
        ) : null}
      </Panel>
      {editable ? (
        <Panel title="Add an order">
          {candidates.length === 0 ? (
            <p className="sl-muted" style={{ margin: 0 }}>
              Every order is on a route. New orders appear here.
            </p>
          ) : (
            <form className="sl-form" onSubmit={add} aria-label="Add an order to the route">
              <Select
                label="Order"
                value={orderId}
                onValueChange={setOrderId}
                placeholder="Choose an order…"
                options={candidates.map((order) => ({
                  value: order.orderId ?? "",
                  label: `${order.consignee} · ${formatKg(order.weightKg)}${order.routeId ? " (on another route)" : ""}`,
                }))}
              />
              <Select
                label="Position"
                value={position}
                onValueChange={setPosition}
                options={[
                  ...stops.map((stop, index) => ({
                    value: String(index),
                    label: `Before stop ${index + 1} (${stop.consignee})`,
                  })),
                  { value: "end", label: "At the end" },
                ]}
              />
              <div className="sl-form__actions">
                <Button type="submit" variant="primary" icon="plus" disabled={!orderId}>
                  Add to route
                </Button>
              </div>
            </form>
          )}
        </Panel>
      ) : null}
      {readOnly ? (
        <Panel title="View only">
          <p className="sl-muted" style={{ margin: 0 }}>
            You see this route change as dispatchers plan it. Planning it takes the dispatcher role.
          </p>
        </Panel>
      ) : null}
    </div>
  );
}
