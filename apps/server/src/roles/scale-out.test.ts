// The scale-out shape on the real Kafka, Redis and PostgreSQL: every role a child process started
// the way an operator starts it (`tsx roles/main.ts <role>`, configured by the environment), on
// topics, keys and a schema of this run's own.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isMessage } from "@bufbuild/protobuf";
import { DispatchCommandService } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { OrderCreatedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { DispatchQueryService } from "@sluice/contracts/gen/dispatch/v1/queries_pb";
import { eventually, scaleOutTestSkip, ScaleOutDeployment } from "./testing";

const skip = await scaleOutTestSkip();

describe(
  "the scale-out shape, one process per role, on Kafka, Redis and PostgreSQL",
  { skip, timeout: 300_000 },
  () => {
    const deployment = new ScaleOutDeployment();
    const patientQueries = { READ_YOUR_WRITES_WAIT_MS: "8000" };
    let gateway1: string;
    let gateway2: string;

    before(async () => {
      await deployment.seed();
      // The domain service first: it creates the event store's tables and the Kafka topics the others use.
      await deployment.start({ role: "domain-service", name: "domain service" });
      const [, , source1, source2] = await Promise.all([
        deployment.start({ role: "projector", name: "projector" }),
        deployment.start({ role: "sink-gateway", name: "sink gateway" }),
        // Queries may wait longer than by default for the projector: this machine is shared, and
        // one answered stale would fail the read-your-writes check below (the client waits 10 s).
        deployment.start({ role: "source-gateway", name: "source gateway 1", env: patientQueries }),
        deployment.start({ role: "source-gateway", name: "source gateway 2", env: patientQueries }),
      ]);
      [gateway1, gateway2] = [source1.url, source2.url];
    });

    after(() => deployment.cleanUp());

    const open = (gatewayUrl: string, email: string) => deployment.client(gatewayUrl, email);

    test("a command sent to gateway 1 reaches a subscriber on gateway 2, and gateway 2's queries see it", async () => {
      const ana = await open(gateway1, "ana@acme.test");
      const ben = await open(gateway2, "ben@acme.test");
      const { projectId } = await ana.service(DispatchCommandService).createProject({ name: "Harbour run" });

      const received: string[] = [];
      let subscribed = false;
      ben.subscribe(`project:${projectId}`, {
        onSubscribed: () => (subscribed = true),
        onPublication: ({ event }) => {
          if (isMessage(event, OrderCreatedSchema)) received.push(event.orderId);
        },
      });
      await eventually("ben is subscribed on gateway 2", () => subscribed);

      const { orderId } = await ana
        .service(DispatchCommandService)
        .createOrder({ projectId, consignee: "Cleo", address: "Quay 3", weightKg: 40 });
      await eventually("the OrderCreated reached ben on gateway 2", () => received.includes(orderId));

      // Read your writes across processes: the domain service's query waits for the projector (a
      // process of its own) to hold what committed before it, so the first query already sees it.
      const board = await ben.service(DispatchQueryService).getOrderBoard({ projectId });
      assert.ok(
        board.orders.some((order) => order.orderId === orderId && order.consignee === "Cleo"),
        "gateway 2's first query after the reply shows the order",
      );
      assert.deepEqual(received, [orderId], "the order's event arrived once");
    });

    test("both gateways serve /auth on one set of counters: 5 wrong passwords across them lock the email on both", async () => {
      const email = `intruder-${Date.now()}@acme.test`;
      const attempt = (gatewayUrl: string, password: string) =>
        fetch(`${gatewayUrl}/auth/signin`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email, password }),
        });
      // 3 on one, 2 on the other: counted apart, neither would have reached 5.
      for (const gatewayUrl of [gateway1, gateway2, gateway1, gateway2, gateway1]) {
        assert.equal((await attempt(gatewayUrl, "wrong")).status, 401);
      }
      assert.equal((await attempt(gateway2, "wrong")).status, 429);
      assert.equal((await attempt(gateway1, "wrong")).status, 429);
    });
  },
);
