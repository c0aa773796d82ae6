import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../config";
import { loadRoleConfig, loadSeedConfig } from "./config";

const database = "postgres://sluice:sluice@127.0.0.1:5432/sluice";

describe("a role's configuration, validated once at start", () => {
  test("refuses an unknown role", () => {
    assert.throws(() => loadRoleConfig("gateway", {}), /the role must be one of source-gateway, sink-gateway/);
  });

  test("requires the database of every role that has one, and names every bad variable at once", () => {
    assert.throws(() => loadRoleConfig("projector", {}), /DATABASE_URL: required by the projector/);
    assert.throws(
      () => loadRoleConfig("source-gateway", { DATABASE_URL: "mysql://x", KAFKA_BROKERS: "a", REDIS_URL: "http://r" }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /DATABASE_URL: must be postgres/.test(error.message) &&
        /KAFKA_BROKERS: "a" is not host:port/.test(error.message) &&
        /REDIS_URL: must be redis/.test(error.message),
    );
    assert.throws(() => loadSeedConfig({}), /DATABASE_URL: required by the demo seed/);
  });

  test("a sink gateway needs no database; each role has its own default port", () => {
    const sink = loadRoleConfig("sink-gateway", {});
    assert.equal(sink.role, "sink-gateway");
    assert.equal(sink.port, 8081);
    assert.deepEqual(sink.role === "sink-gateway" && sink.kafka.brokers, ["127.0.0.1:9092"]);
    const source = loadRoleConfig("source-gateway", {
      DATABASE_URL: database,
      DATABASE_SCHEMA: "tenant_a",
      KAFKA_BROKERS: "k1:9092, k2:9092",
      KAFKA_TOPIC_PREFIX: "staging.",
      GATEWAY_ID: "edge-1",
      PORT: "9000",
    });
    assert.equal(source.role === "source-gateway" && source.gatewayId, "edge-1");
    assert.deepEqual(source.role === "source-gateway" && source.kafka, {
      brokers: ["k1:9092", "k2:9092"],
      topicPrefix: "staging.",
      partitions: 12,
      sessionTimeoutMs: 10_000,
    });
    assert.equal(source.port, 9000);
    assert.equal(loadRoleConfig("domain-service", { DATABASE_URL: database }).port, 8082);
  });
});
