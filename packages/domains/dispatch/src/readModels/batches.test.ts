// The read models fold a batch in memory and write it in a few statements per table: a batch must
// leave the same rows as the same events given one at a time, for a written history and for random ones.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import * as events from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { migrate, type Database } from "@sluice/database";
import { testBackends } from "@sluice/database/testing";
import type { RecordedEvent } from "@sluice/event-store";
import type { DispatchEvent } from "../events";
import { dispatchProjections } from "../index";

const org = "org-1";
const project = "p-1";

function history(): RecordedEvent[] {
  const list: [string, DispatchEvent][] = [
    ["project-p-1", create(events.ProjectCreatedSchema, { projectId: project, name: "North" })],
    [
      "order-o-1",
      create(events.OrderCreatedSchema, {
        orderId: "o-1",
        projectId: project,
        consignee: "ACME",
        address: "a",
        weightKg: 120.5,
      }),
    ],
    [
      "order-o-2",
      create(events.OrderCreatedSchema, {
        orderId: "o-2",
        projectId: project,
        consignee: "Bolt",
        address: "b",
        weightKg: 0.1,
      }),
    ],
    [
      "route-r-1",
      create(events.RouteCreatedSchema, { routeId: "r-1", projectId: project, name: "Van 1", vehicleCapacityKg: 1000 }),
    ],
    ["order-o-1", create(events.OrderAssignedSchema, { orderId: "o-1", projectId: project, routeId: "r-1" })],
    [
      "route-r-1",
      create(events.StopAddedSchema, {
        routeId: "r-1",
        projectId: project,
        orderId: "o-1",
        position: 0,
        weightKg: 120.5,
      }),
    ],
    ["order-o-2", create(events.OrderAssignedSchema, { orderId: "o-2", projectId: project, routeId: "r-1" })],
    [
      "route-r-1",
      create(events.StopAddedSchema, {
        routeId: "r-1",
        projectId: project,
        orderId: "o-2",
        position: 0,
        weightKg: 0.1,
      }),
    ],
    [
      "order-o-3",
      create(events.OrderCreatedSchema, {
        orderId: "o-3",
        projectId: project,
        consignee: "Cargo",
        address: "c",
        weightKg: 3,
      }),
    ],
    [
      "order-o-1",
      create(events.OrderEditedSchema, {
        orderId: "o-1",
        projectId: project,
        consignee: "ACME Ltd",
        address: "a",
        weightKg: 99,
      }),
    ],
    [
      "route-r-1",
      create(events.StopWeightChangedSchema, { routeId: "r-1", projectId: project, orderId: "o-1", weightKg: 99 }),
    ],
    ["order-o-3", create(events.OrderCancelledSchema, { orderId: "o-3", projectId: project, reason: "gone" })],
    ["order-o-2", create(events.OrderUnassignedSchema, { orderId: "o-2", projectId: project, routeId: "r-1" })],
    ["route-r-1", create(events.StopRemovedSchema, { routeId: "r-1", projectId: project, orderId: "o-2" })],
    // Erasures rewrite rows written earlier: in the same batch from memory, or in the table.
    ["order-o-3", create(events.OrderPersonalDataErasedSchema, { orderId: "o-3", projectId: project })],
    ["order-o-2", create(events.OrderPersonalDataErasedSchema, { orderId: "o-2", projectId: project })],
    ["route-r-1", create(events.RouteDispatchedSchema, { routeId: "r-1", projectId: project })],
    ["order-o-1", create(events.OrderDeliveredSchema, { orderId: "o-1", projectId: project, routeId: "r-1" })],
    ["route-r-1", create(events.RouteCompletedSchema, { routeId: "r-1", projectId: project })],
  ];
  return recorded(list.map(([streamId, data]) => [org, streamId, data]));
}

/** Events as the log would hand them on: stream versions counted per stream, positions in order. */
function recorded(list: readonly (readonly [string, string, DispatchEvent])[]): RecordedEvent[] {
  const versions = new Map<string, bigint>();
  return list.map(([organizationId, streamId, data], i) => {
    const version = (versions.get(`${organizationId}/${streamId}`) ?? 0n) + 1n;
    versions.set(`${organizationId}/${streamId}`, version);
    return {
      eventId: `e-${i}`,
      organizationId,
      streamId,
      streamType: streamId.split("-")[0]!,
      streamVersion: version,
      globalPosition: BigInt(i + 1),
      transactionId: BigInt(i + 1),
      type: data.$typeName.slice("dispatch.v1.".length),
      data,
      metadata: { userId: "user-ana", commandId: `c-${i}`, correlationId: `c-${i}` },
      occurredAt: new Date(Date.UTC(2026, 0, 1, 8, 0, i)),
    };
  });
}

/** A small deterministic generator (mulberry32): the same seed, the same history. */
function randomSource(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const below = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T | undefined => items[below(items.length)];
  return { next, below, pick };
}

/**
 * A random history of two organizations (sharing ids, as they may) as Dispatch's deciders would
 * write it, and a little they would not (events about orders and routes never created, a
 * creation twice), which the read models must take as their statements did.
 */
function randomHistory(seed: number, length: number): RecordedEvent[] {
  const { next, below, pick } = randomSource(seed);
  type Order = { id: string; project: string; route?: string; status: "open" | "planned" | "gone"; erased: boolean };
  type Route = { id: string; project: string; stops: string[]; status: "planning" | "dispatched" | "completed" };
  const world = new Map<string, { projects: string[]; orders: Order[]; routes: Route[] }>();
  const list: [string, string, DispatchEvent][] = [];
  const window = () =>
    next() < 0.5
      ? undefined
      : {
          start: timestampFromMs(Date.UTC(2026, 0, 1) + below(1000) * 60_000),
          end: timestampFromMs(Date.UTC(2026, 0, 2) + below(1000) * 60_000),
        };
  const weight = () => (next() < 0.2 ? below(5000) : Math.round(next() * 100_000) / 100);
  while (list.length < length) {
    const org = pick(["org-a", "org-b"])!;
    const here = world.get(org) ?? { projects: [], orders: [], routes: [] };
    world.set(org, here);
    const emit = (streamId: string, data: DispatchEvent) => list.push([org, streamId, data]);
    const project = pick(here.projects);
    const order = pick(here.orders.filter((o) => o.status !== "gone"));
    const route = pick(here.routes);
    const roll = below(16);
    if (!project || roll === 0) {
      const projectId = `p-${here.projects.length + 1}`;
      here.projects.push(projectId);
      emit(`project-${projectId}`, create(events.ProjectCreatedSchema, { projectId, name: `Depot ${projectId}` }));
    } else if (roll <= 3 || !order) {
      const erased = next() < 0.1;
      const id = next() < 0.05 && order ? order.id : `o-${here.orders.length + 1}`;
      if (id !== order?.id) here.orders.push({ id, project, status: "open", erased });
      emit(
        `order-${id}`,
        create(events.OrderCreatedSchema, {
          orderId: id,
          projectId: project,
          consignee: erased ? "" : `Consignee ${id}`,
          address: erased ? "" : `Street ${below(99)}`,
          weightKg: weight(),
          timeWindow: window(),
          personalDataErased: erased,
        }),
      );
    } else if (roll === 4 || !route) {
      const routeId = `r-${here.routes.length + 1}`;
      here.routes.push({ id: routeId, project, stops: [], status: "planning" });
      emit(
        `route-${routeId}`,
        create(events.RouteCreatedSchema, {
          routeId,
          projectId: project,
          name: `Van ${routeId}`,
          vehicleCapacityKg: 2000,
        }),
      );
    } else if (roll === 5) {
      const weightKg = weight();
      emit(
        `order-${order.id}`,
        create(events.OrderEditedSchema, {
          orderId: order.id,
          projectId: order.project,
          consignee: order.erased ? "" : `Consignee ${order.id} ${below(9)}`,
          address: order.erased ? "" : `Street ${below(99)}`,
          weightKg,
          timeWindow: window(),
          personalDataErased: order.erased,
        }),
      );
      const on = here.routes.find((r) => r.id === order.route);
      if (on?.stops.includes(order.id))
        emit(
          `route-${on.id}`,
          create(events.StopWeightChangedSchema, {
            routeId: on.id,
            projectId: on.project,
            orderId: order.id,
            weightKg,
          }),
        );
    } else if (roll <= 8 && order.status === "open" && route.status === "planning") {
      order.status = "planned";
      order.route = route.id;
      const position = below(route.stops.length + 1);
      route.stops.splice(position, 0, order.id);
      emit(
        `order-${order.id}`,
        create(events.OrderAssignedSchema, { orderId: order.id, projectId: order.project, routeId: route.id }),
      );
      emit(
        `route-${route.id}`,
        create(events.StopAddedSchema, {
          routeId: route.id,
          projectId: route.project,
          orderId: order.id,
          position,
          weightKg: weight(),
        }),
      );
    } else if (roll === 9 && order.route !== undefined) {
      const on = here.routes.find((r) => r.id === order.route)!;
      const cancel = next() < 0.5 && on.status === "planning";
      if (on.status === "planning") {
        on.stops = on.stops.filter((id) => id !== order.id);
        emit(
          `order-${order.id}`,
          cancel
            ? create(events.OrderCancelledSchema, { orderId: order.id, projectId: order.project, reason: "no longer" })
            : create(events.OrderUnassignedSchema, { orderId: order.id, projectId: order.project, routeId: on.id }),
        );
        emit(
          `route-${on.id}`,
          create(events.StopRemovedSchema, { routeId: on.id, projectId: on.project, orderId: order.id }),
        );
        order.status = cancel ? "gone" : "open";
        delete order.route;
      } else {
        order.status = "gone";
        emit(
          `order-${order.id}`,
          create(events.OrderDeliveredSchema, { orderId: order.id, projectId: order.project, routeId: on.id }),
        );
      }
    } else if (roll === 10 && order.status === "open") {
      order.status = "gone";
      emit(
        `order-${order.id}`,
        create(events.OrderCancelledSchema, {
          orderId: order.id,
          projectId: order.project,
          reason: `reason ${below(9)}`,
        }),
      );
    } else if (roll === 11 && route.stops.length > 1) {
      const orderIds = [...route.stops].sort(() => next() - 0.5);
      route.stops = orderIds;
      emit(
        `route-${route.id}`,
        create(events.StopsReorderedSchema, { routeId: route.id, projectId: route.project, orderIds }),
      );
    } else if (roll === 12 && route.status !== "completed") {
      route.status = route.status === "planning" ? "dispatched" : "completed";
      emit(
        `route-${route.id}`,
        route.status === "dispatched"
          ? create(events.RouteDispatchedSchema, { routeId: route.id, projectId: route.project })
          : create(events.RouteCompletedSchema, { routeId: route.id, projectId: route.project }),
      );
    } else if (roll === 13 && !order.erased) {
      order.erased = true;
      emit(
        `order-${order.id}`,
        create(events.OrderPersonalDataErasedSchema, { orderId: order.id, projectId: order.project }),
      );
    } else if (roll === 14) {
      // About what the read models never saw created: their statements changed nothing.
      const id = `x-${below(3)}`;
      emit(
        `order-${id}`,
        create(events.OrderUnassignedSchema, { orderId: id, projectId: project, routeId: `x-${below(3)}` }),
      );
      emit(`route-${id}`, create(events.RouteDispatchedSchema, { routeId: id, projectId: project }));
    }
  }
  return recorded(list);
}

const tables = [
  "dispatch_projects",
  "dispatch_orders",
  "dispatch_routes",
  "dispatch_route_stops",
  "dispatch_activity",
  "dispatch_activity_labels",
];

async function dump(db: Database): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const table of tables) out[table] = (await db.query(`select * from ${table} order by 1, 2, 3`)).rows;
  return out;
}

for (const backend of await testBackends()) {
  describe(
    `read models on ${backend.name}: one batch writes what its events one by one write`,
    { skip: backend.skip },
    () => {
      const opened: Database[] = [];
      after(async () => {
        for (const db of opened) await db.close();
      });

      async function apply(batches: RecordedEvent[][]): Promise<unknown> {
        const db = await backend.open();
        opened.push(db);
        await migrate(
          db,
          dispatchProjections.flatMap((model) => model.migrations),
        );
        for (const batch of batches) {
          await db.transaction(async (tx) => {
            for (const model of dispatchProjections) await model.handle(tx, batch);
          });
        }
        return dump(db);
      }

      test("random histories: in random batches as one event at a time", async () => {
        const db = await backend.open();
        opened.push(db);
        await migrate(
          db,
          dispatchProjections.flatMap((model) => model.migrations),
        );
        const applyTo = async (batches: RecordedEvent[][]) => {
          await db.exec(`truncate ${tables.join(", ")}`);
          for (const batch of batches) {
            await db.transaction(async (tx) => {
              for (const model of dispatchProjections) await model.handle(tx, batch);
            });
          }
          return dump(db);
        };
        for (let seed = 1; seed <= 10; seed++) {
          const all = randomHistory(seed, 120);
          const oneByOne = await applyTo(all.map((event) => [event]));
          const { below } = randomSource(seed * 7919);
          const batches: RecordedEvent[][] = [];
          for (let at = 0; at < all.length;) {
            const size = 1 + below(40);
            batches.push(all.slice(at, at + size));
            at += size;
          }
          assert.deepEqual(
            await applyTo(batches),
            oneByOne,
            `seed ${seed}, batches of ${batches.map((b) => b.length)}`,
          );
          assert.deepEqual(await applyTo([all]), oneByOne, `seed ${seed}, one batch`);
        }
      });

      test("whole history in one batch, in two, and one event at a time", async () => {
        const all = history();
        const oneByOne = await apply(all.map((event) => [event]));
        assert.deepEqual(await apply([all]), oneByOne);
        assert.deepEqual(await apply([all.slice(0, 7), all.slice(7)]), oneByOne);
        const activity = (oneByOne as { dispatch_activity: { summary: string }[] }).dispatch_activity.map(
          (row) => row.summary,
        );
        assert.ok(activity.includes("cancelled order o-3 (erased)"), activity.join("; "));
        assert.ok(activity.includes("took order o-2 (erased) off route Van 1"), activity.join("; "));
        assert.ok(!activity.some((summary) => /Cargo|Bolt|gone/.test(summary)), activity.join("; "));
        assert.ok(activity.includes("delivered order for ACME Ltd with route Van 1"), activity.join("; "));
      });
    },
  );
}
