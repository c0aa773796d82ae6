import type { ReactNode } from "react";
import type { OrderStatusJson, RouteStatusJson } from "@sluice/contracts/gen/dispatch/v1/types_pb";
import { classNames } from "./Button";

export type Tone = "neutral" | "info" | "primary" | "success" | "warning" | "danger";

export interface BadgeProps {
  tone?: Tone;
  /** A coloured dot before the text, for states. */
  dot?: boolean;
  children: ReactNode;
}

export function Badge({ tone = "neutral", dot, children }: BadgeProps) {
  return (
    <span className={classNames("sl-badge", tone !== "neutral" && `sl-badge--${tone}`)}>
      {dot ? <span className="sl-badge__dot" aria-hidden="true" /> : null}
      {children}
    </span>
  );
}

// The statuses come from the contracts' JSON mapping, so a new status in the .proto is a type error here.
const orderStatuses: Record<OrderStatusJson, { label: string; tone: Tone }> = {
  ORDER_STATUS_UNSPECIFIED: { label: "Unknown", tone: "neutral" },
  ORDER_STATUS_OPEN: { label: "Open", tone: "info" },
  ORDER_STATUS_PLANNED: { label: "Planned", tone: "primary" },
  ORDER_STATUS_DISPATCHED: { label: "Dispatched", tone: "warning" },
  ORDER_STATUS_DELIVERED: { label: "Delivered", tone: "success" },
  ORDER_STATUS_CANCELLED: { label: "Cancelled", tone: "danger" },
};

const routeStatuses: Record<RouteStatusJson, { label: string; tone: Tone }> = {
  ROUTE_STATUS_UNSPECIFIED: { label: "Unknown", tone: "neutral" },
  ROUTE_STATUS_PLANNING: { label: "Planning", tone: "primary" },
  ROUTE_STATUS_DISPATCHED: { label: "Dispatched", tone: "warning" },
  ROUTE_STATUS_COMPLETED: { label: "Completed", tone: "success" },
};

export type StatusPillProps =
  { kind: "order"; status: OrderStatusJson | undefined } | { kind: "route"; status: RouteStatusJson | undefined };

/** An order's or a route's status as a coloured pill with its name. */
export function StatusPill(props: StatusPillProps) {
  const { label, tone } =
    props.kind === "order"
      ? orderStatuses[props.status ?? "ORDER_STATUS_UNSPECIFIED"]
      : routeStatuses[props.status ?? "ROUTE_STATUS_UNSPECIFIED"];
  return (
    <Badge tone={tone} dot>
      {label}
    </Badge>
  );
}

export function orderStatusLabel(status: OrderStatusJson | undefined): string {
  return orderStatuses[status ?? "ORDER_STATUS_UNSPECIFIED"].label;
}

export function routeStatusLabel(status: RouteStatusJson | undefined): string {
  return routeStatuses[status ?? "ROUTE_STATUS_UNSPECIFIED"].label;
}
