import { useState } from "react";
import {
  Button,
  DataTable,
  Dialog,
  EmptyState,
  IconButton,
  Panel,
  SegmentedControl,
  StatusPill,
  TextField,
  followLink,
  type Column,
} from "@sluice/design-system";
import type { OrderViewJson, RouteSummaryJson } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import type { OrderStatusJson } from "@sluice/contracts/gen/dispatch/v1/types_pb";
import { erasedLabel, formatKg, formatWindow, num } from "../format";
import { OrderForm, type OrderDraft } from "./OrderForm";

export interface OrdersBoardViewProps {
  orders: readonly OrderViewJson[];
  routes: readonly RouteSummaryJson[];
  loading: boolean;
  routeHref: (routeId: string) => string;
  onNavigate: (href: string) => void;
  /** Each returns the call's promise so the form can close when it succeeded. */
  onCreate: (draft: OrderDraft) => Promise<unknown>;
  onEdit: (order: OrderViewJson, draft: OrderDraft) => Promise<unknown>;
  onCancel: (order: OrderViewJson, reason: string) => Promise<unknown>;
  /** The user may read but not change orders (a viewer): no create, edit or cancel. */
  readOnly?: boolean;
}

type StatusFilter = "all" | "open" | "planned" | "dispatched" | "delivered" | "cancelled";

const filters: ReadonlyArray<{ value: StatusFilter; label: string; status?: OrderStatusJson }> = [
  { value: "all", label: "All" },
  { value: "open", label: "Open", status: "ORDER_STATUS_OPEN" },
  { value: "planned", label: "Planned", status: "ORDER_STATUS_PLANNED" },
  { value: "dispatched", label: "Dispatched", status: "ORDER_STATUS_DISPATCHED" },
  { value: "delivered", label: "Delivered", status: "ORDER_STATUS_DELIVERED" },
  { value: "cancelled", label: "Cancelled", status: "ORDER_STATUS_CANCELLED" },
];

type Editing =
  { kind: "create" } | { kind: "edit"; order: OrderViewJson } | { kind: "cancel"; order: OrderViewJson } | null;

const editable = (order: OrderViewJson) =>
  order.status === "ORDER_STATUS_OPEN" || order.status === "ORDER_STATUS_PLANNED";

/** Every order of the project: create, edit, cancel, and see where each one stands. */
export function OrdersBoardView({
  orders,
  routes,
  loading,
  routeHref,
  onNavigate,
  onCreate,
  onEdit,
  onCancel,
  readOnly = false,
}: OrdersBoardViewProps) {
  const [editing, setEditing] = useState<Editing>(null);
  const [busy, setBusy] = useState(false);
  const [reason, setReason] = useState("");
  const [filter, setFilter] = useState<StatusFilter>("all");
  const statusOf = (value: StatusFilter) => filters.find((candidate) => candidate.value === value)?.status;
  const shown = filter === "all" ? orders : orders.filter((order) => order.status === statusOf(filter));
  const routeNames = new Map(routes.map((route) => [route.routeId, route.name]));
  const close = () => setEditing(null);

  const run = (action: Promise<unknown>) => {
    setBusy(true);
    action.then(close, () => undefined).finally(() => setBusy(false));
  };

  const columns: Array<Column<OrderViewJson>> = [
    {
      key: "consignee",
      header: "Consignee",
      render: (order) =>
        order.personalDataErased ? (
          <div className="sl-muted">{erasedLabel}</div>
        ) : (
          <div>
            <div style={{ fontWeight: 500 }}>{order.consignee}</div>
            <div className="sl-muted" style={{ fontSize: 13 }}>
              {order.address}
            </div>
          </div>
        ),
    },
    { key: "weight", header: "Weight", numeric: true, render: (order) => formatKg(order.weightKg) },
    { key: "window", header: "Time window", render: (order) => formatWindow(order.timeWindow) },
    { key: "status", header: "Status", render: (order) => <StatusPill kind="order" status={order.status} /> },
    {
      key: "route",
      header: "Route",
      render: (order) =>
        order.routeId ? (
          <a
            href={routeHref(order.routeId)}
            onClick={(event) => followLink(event, routeHref(order.routeId ?? ""), onNavigate)}
          >
            {routeNames.get(order.routeId) ?? "Route"}
          </a>
        ) : (
          <span className="sl-muted">—</span>
        ),
    },
    {
      key: "actions",
      header: "Actions",
      render: (order) =>
        editable(order) && !readOnly ? (
          <div className="sl-inline" style={{ gap: 2 }}>
            {/* Its consignee and address are gone for good: nothing to edit. */}
            {!order.personalDataErased && (
              <IconButton
                icon="edit"
                size="sm"
                label={`Edit order for ${order.consignee}`}
                onClick={() => setEditing({ kind: "edit", order })}
              />
            )}
            <IconButton
              icon="trash"
              size="sm"
              label={`Cancel order for ${order.consignee}`}
              onClick={() => {
                setReason("");
                setEditing({ kind: "cancel", order });
              }}
            />
          </div>
        ) : null,
    },
  ];

  const totalOpen = orders.filter((order) => order.status === "ORDER_STATUS_OPEN").length;
  const totalWeight = orders.filter(editable).reduce((sum, order) => sum + num(order.weightKg), 0);

  return (
    <>
      <Panel
        title="Orders"
        subtitle={
          loading
            ? "Loading…"
            : `${orders.length} orders · ${totalOpen} waiting for a route · ${formatKg(totalWeight)} to move`
        }
        actions={
          readOnly ? undefined : (
            <Button variant="primary" icon="plus" onClick={() => setEditing({ kind: "create" })}>
              New order
            </Button>
          )
        }
        flush
      >
        {orders.length > 0 ? (
          <div className="orders-filter">
            <SegmentedControl
              label="Filter by status"
              value={filter}
              onChange={setFilter}
              segments={filters.map((candidate) => ({
                value: candidate.value,
                label: candidate.label,
                count: candidate.status
                  ? orders.filter((order) => order.status === candidate.status).length
                  : orders.length,
              }))}
            />
          </div>
        ) : null}
        <DataTable
          caption="Orders"
          columns={columns}
          rows={shown}
          rowKey={(order) => order.orderId ?? ""}
          rowProps={(order) => ({ "data-testid": "order-row", "data-order-id": order.orderId })}
          empty={
            orders.length > 0 ? (
              <EmptyState title="No orders with this status" description="Choose another status above, or All." />
            ) : (
              <EmptyState
                title="No orders yet"
                description="Orders are what your routes deliver: a consignee, an address, a weight and a time window."
                action={
                  readOnly ? undefined : (
                    <Button variant="primary" icon="plus" onClick={() => setEditing({ kind: "create" })}>
                      New order
                    </Button>
                  )
                }
              />
            )
          }
        />
      </Panel>
      <Dialog open={editing?.kind === "create"} title="New order" onClose={close}>
        <OrderForm submitLabel="Create order" busy={busy} onCancel={close} onSubmit={(draft) => run(onCreate(draft))} />
      </Dialog>
      <Dialog open={editing?.kind === "edit"} title="Edit order" onClose={close}>
        {editing?.kind === "edit" ? (
          <OrderForm
            key={editing.order.orderId}
            submitLabel="Save changes"
            busy={busy}
            initial={{ ...editing.order, weightKg: num(editing.order.weightKg) }}
            onCancel={close}
            onSubmit={(draft) => run(onEdit(editing.order, draft))}
          />
        ) : null}
      </Dialog>
      <Dialog open={editing?.kind === "cancel"} title="Cancel order" onClose={close}>
        {editing?.kind === "cancel" ? (
          <form
            className="sl-form"
            onSubmit={(event) => {
              event.preventDefault();
              run(onCancel(editing.order, reason));
            }}
          >
            <p style={{ margin: 0 }}>
              Cancel the order for <strong>{editing.order.consignee}</strong>? It comes off its route, and this cannot
              be undone.
            </p>
            <TextField
              label="Reason"
              hint="Optional; shown in the activity feed."
              value={reason}
              onValueChange={setReason}
              maxLength={500}
            />
            <div className="sl-form__actions">
              <Button variant="ghost" onClick={close}>
                Keep order
              </Button>
              <Button type="submit" variant="danger" busy={busy}>
                Cancel order
              </Button>
            </div>
          </form>
        ) : null}
      </Dialog>
    </>
  );
}
