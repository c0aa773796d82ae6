import { createSlice, type PayloadAction } from "@reduxjs/toolkit";
import { sluicePublication, sluiceSubscribed, type PublicationPayload } from "@sluice/client-sdk/redux";
import type { OrderBoardJson, OrderViewJson } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import type {
  OrderAssignedJson,
  OrderCreatedJson,
  OrderEditedJson,
  OrderUnassignedJson,
  RouteCompletedJson,
  RouteDispatchedJson,
} from "@sluice/contracts/gen/dispatch/v1/events_pb";
import type { OrderStatusJson } from "@sluice/contracts/gen/dispatch/v1/types_pb";
import { occurredAt, projectChannel, sequence, streamVersionOf } from "./publication";

/** The order board of the open project: the query's answer, kept live by the project channel. */
export interface OrderBoardState {
  projectId: string | null;
  orders: Record<string, OrderViewJson>;
  /** A query is in flight: publications wait in `pending` and are folded over its answer. */
  loading: boolean;
  pending: PublicationPayload[];
  /** A publication showed a gap: the listener refetches. */
  stale: boolean;
}

const initialState: OrderBoardState = { projectId: null, orders: {}, loading: false, pending: [], stale: false };

function fold(state: OrderBoardState, publication: PublicationPayload): void {
  const { type } = publication;
  if (type === "dispatch.v1.OrderCreated") {
    const event = publication.event as OrderCreatedJson;
    const id = event.orderId ?? "";
    if (state.orders[id]) return;
    state.orders[id] = {
      orderId: id,
      projectId: event.projectId,
      consignee: event.consignee,
      address: event.address,
      weightKg: event.weightKg,
      timeWindow: event.timeWindow,
      status: "ORDER_STATUS_OPEN",
      routeId: "",
      version: streamVersionOf(publication),
      createdAt: occurredAt(publication),
    };
    return;
  }
  // Route events change the status of the orders on the route without touching their streams.
  if (type === "dispatch.v1.RouteDispatched" || type === "dispatch.v1.RouteCompleted") {
    const { routeId } = publication.event as RouteDispatchedJson | RouteCompletedJson;
    const status: OrderStatusJson =
      type === "dispatch.v1.RouteDispatched" ? "ORDER_STATUS_DISPATCHED" : "ORDER_STATUS_DELIVERED";
    for (const order of Object.values(state.orders)) {
      if (order.routeId === routeId && order.status !== "ORDER_STATUS_CANCELLED") order.status = status;
    }
    return;
  }
  if (!publication.metadata?.streamId?.startsWith("order-")) return;
  const event = publication.event as { orderId?: string };
  const order = state.orders[event.orderId ?? ""];
  if (!order) return;
  const position = sequence(order.version, publication);
  if (position === "included") return;
  if (position === "gap") {
    state.stale = true;
    return;
  }
  order.version = streamVersionOf(publication);
  switch (type) {
    case "dispatch.v1.OrderEdited": {
      const edited = publication.event as OrderEditedJson;
      Object.assign(order, {
        consignee: edited.consignee,
        address: edited.address,
        weightKg: edited.weightKg,
        timeWindow: edited.timeWindow,
      });
      return;
    }
    case "dispatch.v1.OrderCancelled":
      order.status = "ORDER_STATUS_CANCELLED";
      order.routeId = "";
      return;
    case "dispatch.v1.OrderAssigned":
      order.status = "ORDER_STATUS_PLANNED";
      order.routeId = (publication.event as OrderAssignedJson).routeId ?? "";
      return;
    case "dispatch.v1.OrderUnassigned":
      if (order.routeId === (publication.event as OrderUnassignedJson).routeId) {
        order.status = "ORDER_STATUS_OPEN";
        order.routeId = "";
      }
      return;
    case "dispatch.v1.OrderDelivered":
      order.status = "ORDER_STATUS_DELIVERED";
      return;
  }
}

export const orderBoardSlice = createSlice({
  name: "orderBoard",
  initialState,
  reducers: {
    orderBoardRequested(state, { payload }: PayloadAction<{ projectId: string }>) {
      if (state.projectId !== payload.projectId) {
        state.orders = {};
        state.pending = [];
      }
      state.projectId = payload.projectId;
      state.loading = true;
      state.stale = false;
    },
    orderBoardLoaded(state, { payload }: PayloadAction<OrderBoardJson>) {
      if (payload.projectId !== state.projectId) return;
      // Merge by version: an answer may be older than publications already folded (projections lag).
      for (const order of payload.orders ?? []) {
        const id = order.orderId ?? "";
        const held = state.orders[id];
        if (!held || Number(held.version ?? 0) <= Number(order.version ?? 0)) state.orders[id] = order;
      }
      state.loading = false;
      const pending = state.pending;
      state.pending = [];
      for (const publication of pending) fold(state, publication);
    },
    orderBoardFailed(state) {
      state.loading = false;
      state.pending = [];
    },
  },
  extraReducers: (builder) =>
    builder
      .addCase(sluiceSubscribed, (state, { payload }) => {
        // Not recovered: the listener reloads; what arrives meanwhile waits for that answer.
        if (state.projectId && payload.channel === projectChannel(state.projectId) && !payload.recovered)
          state.loading = true;
      })
      .addCase(sluicePublication, (state, { payload }) => {
        if (!state.projectId || payload.channel !== projectChannel(state.projectId)) return;
        if (state.loading) state.pending.push(payload);
        else fold(state, payload);
      }),
  selectors: {
    selectOrderBoard: (state) => state,
  },
});

export const { orderBoardRequested, orderBoardLoaded, orderBoardFailed } = orderBoardSlice.actions;
