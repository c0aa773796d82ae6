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

  test("the outbox relay and the projector retry their lease every second unless told", () => {
    const domain = loadRoleConfig("domain-service", { DATABASE_URL: database });
    assert.equal(domain.role === "domain-service" && domain.leaseRetryMs, 1000);
    const projector = loadRoleConfig("projector", { DATABASE_URL: database, LEASE_RETRY_MS: "250" });
    assert.equal(projector.role === "projector" && projector.leaseRetryMs, 250);
    assert.throws(() => loadRoleConfig("projector", { DATABASE_URL: database, LEASE_RETRY_MS: "0" }), /LEASE_RETRY_MS/);
  });

  test("a source gateway's queries wait 2 s at most for the projector unless told", () => {
    const gateway = loadRoleConfig("source-gateway", { DATABASE_URL: database });
    assert.equal(gateway.role === "source-gateway" && gateway.readYourWritesWaitMs, 2000);
    const impatient = loadRoleConfig("source-gateway", { DATABASE_URL: database, READ_YOUR_WRITES_WAIT_MS: "0" });
    assert.equal(impatient.role === "source-gateway" && impatient.readYourWritesWaitMs, 0);
    assert.throws(
      () => loadRoleConfig("source-gateway", { DATABASE_URL: database, READ_YOUR_WRITES_WAIT_MS: "-1" }),
      /READ_YOUR_WRITES_WAIT_MS/,
    );
  });

  test("a source gateway serves apps/web/dist (registerWebApp's default) unless WEB_DIST names another build", () => {
    const gateway = loadRoleConfig("source-gateway", { DATABASE_URL: database });
    assert.equal(gateway.role === "source-gateway" && gateway.webDist, undefined);
    const built = loadRoleConfig("source-gateway", { DATABASE_URL: database, WEB_DIST: "/srv/web" });
    assert.equal(built.role === "source-gateway" && built.webDist, "/srv/web");
  });

  test("the auth role needs the database and listens on 8084; a source gateway serves /auth unless told not to", () => {
    assert.throws(() => loadRoleConfig("auth", {}), /DATABASE_URL: required by the auth/);
    const auth = loadRoleConfig("auth", { DATABASE_URL: database, ACCESS_TOKEN_TTL_SECONDS: "120" });
    assert.equal(auth.port, 8084);
    assert.equal(auth.role === "auth" && auth.accessTokenTtlSeconds, 120);
    // Its sign-in counters are in Redis, shared with every other process serving /auth.
    const redis = loadRoleConfig("auth", {
      DATABASE_URL: database,
      REDIS_URL: "redis://r:6379",
      REDIS_KEY_PREFIX: "a:",
    });
    assert.deepEqual(redis.role === "auth" && redis.redis, { url: "redis://r:6379", keyPrefix: "a:" });
    assert.throws(() => loadRoleConfig("auth", { DATABASE_URL: database, REDIS_URL: "http://r" }), /REDIS_URL/);
    const serving = loadRoleConfig("source-gateway", { DATABASE_URL: database });
    assert.equal(serving.role === "source-gateway" && serving.serveAuth, true);
    const notServing = loadRoleConfig("source-gateway", { DATABASE_URL: database, SERVE_AUTH: "false" });
    assert.equal(notServing.role === "source-gateway" && notServing.serveAuth, false);
    assert.throws(
      () => loadRoleConfig("source-gateway", { DATABASE_URL: database, SERVE_AUTH: "maybe" }),
      /SERVE_AUTH/,
    );
  });

  test("TRUST_PROXY reaches the roles clients talk to (source gateway, auth); a bad one stops any role", () => {
    const env = { DATABASE_URL: database, TRUST_PROXY: "10.0.0.0/8, 127.0.0.1" };
    assert.deepEqual(loadRoleConfig("source-gateway", env).trustProxy, ["10.0.0.0/8", "127.0.0.1"]);
    assert.deepEqual(loadRoleConfig("auth", env).trustProxy, ["10.0.0.0/8", "127.0.0.1"]);
    assert.equal(loadRoleConfig("projector", env).trustProxy, undefined, "operations endpoints only");
    assert.deepEqual(loadRoleConfig("auth", { DATABASE_URL: database }).trustProxy, [], "none unless told");
    for (const role of ["auth", "source-gateway", "sink-gateway"]) {
      assert.throws(
        () => loadRoleConfig(role, { DATABASE_URL: database, TRUST_PROXY: "1" }),
        (error: unknown) =>
          error instanceof ConfigError && /TRUST_PROXY: "1" is a hop count, which is not accepted/.test(error.message),
        role,
      );
    }
  });
});
