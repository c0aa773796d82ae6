import { createSlice, type PayloadAction } from "@reduxjs/toolkit";
import type { PublicationPayload } from "@sluice/client-sdk/redux";
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
import {
  addLiveViewCases,
  idleLiveView,
  liveViewFailed,
  liveViewLoaded,
  liveViewRequested,
  mergeByVersion,
  type LiveView,
} from "./liveView";
import { occurredAt, projectChannel, sequence, streamVersionOf } from "./publication";

/** The order board of the open project: the query's answer, kept live by the project channel. */
export interface OrderBoardState extends LiveView {
  projectId: string | null;
  orders: Record<string, OrderViewJson>;
}

const initialState: OrderBoardState = { projectId: null, orders: {}, ...idleLiveView };

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
    case "dispatch.v1.OrderPersonalDataErased":
      Object.assign(order, { consignee: "", address: "", personalDataErased: true });
      return;
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
      const otherView = state.projectId !== payload.projectId;
      if (otherView) state.orders = {};
      state.projectId = payload.projectId;
      liveViewRequested(state, otherView);
    },
    orderBoardLoaded(state, { payload }: PayloadAction<OrderBoardJson>) {
      if (payload.projectId !== state.projectId) return;
      mergeByVersion(state.orders, payload.orders ?? [], (order) => order.orderId);
      liveViewLoaded(state, fold);
    },
    orderBoardFailed: liveViewFailed,
  },
  extraReducers: (builder) =>
    addLiveViewCases(builder, {
      channel: (state) => (state.projectId ? projectChannel(state.projectId) : null),
      fold,
    }),
  selectors: {
    selectOrderBoard: (state) => state,
  },
});

export const { orderBoardRequested, orderBoardLoaded, orderBoardFailed } = orderBoardSlice.actions;
