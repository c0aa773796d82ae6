import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** The edge's Prometheus metrics, registered once per gateway on the given registry. */
export class GatewayMetrics {
  readonly connections: Gauge;
  readonly subscriptions: Gauge;
  readonly calls: Counter<"method" | "outcome">;
  readonly callSeconds: Histogram<"kind">;
  readonly publicationsDelivered: Counter;
  readonly stateLostTold: Counter;
  readonly sendQueueDrops: Counter;
  readonly closes: Counter<"code">;
  readonly upgradesRefused: Counter<"reason">;
  readonly sessionRecheckSeconds: Histogram;

  constructor(registry: Registry) {
    const registers = [registry];
    this.connections = new Gauge({ name: "sluice_gateway_connections", help: "Open WebSocket connections", registers });
    this.subscriptions = new Gauge({
      name: "sluice_gateway_subscriptions",
      help: "Channel subscriptions held by connections",
      registers,
    });
    this.calls = new Counter({
      name: "sluice_gateway_calls_total",
      help: "Calls answered, by method and outcome (ok or the error code)",
      labelNames: ["method", "outcome"],
      registers,
    });
    this.callSeconds = new Histogram({
      name: "sluice_gateway_call_duration_seconds",
      help: "Time from a Call frame to its Reply, by method kind",
      labelNames: ["kind"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.publicationsDelivered = new Counter({
      name: "sluice_gateway_publications_delivered_total",
      help: "Publication frames written to sockets",
      registers,
    });
    this.stateLostTold = new Counter({
      name: "sluice_gateway_state_lost_total",
      help: "StateLost frames written to sockets: subscriptions told to read their channel again (the broker lost its state)",
      registers,
    });
    this.sendQueueDrops = new Counter({
      name: "sluice_gateway_send_queue_drops_total",
      help: "Connections closed because their send buffer overflowed (slow consumers)",
      registers,
    });
    this.closes = new Counter({
      name: "sluice_gateway_closes_total",
      help: "Connections closed by the server, by close code",
      labelNames: ["code"],
      registers,
    });
    this.upgradesRefused = new Counter({
      name: "sluice_gateway_upgrades_refused_total",
      help: "WebSocket upgrades refused, by reason (origin, unauthenticated)",
      labelNames: ["reason"],
      registers,
    });
    this.sessionRecheckSeconds = new Histogram({
      name: "sluice_gateway_session_recheck_seconds",
      help: "Time to read again the sessions of every open socket (all batches of one round)",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
  }
}
