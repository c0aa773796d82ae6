import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { ConfigError, loadConfig } from "./config";

test("ALLOWED_ORIGINS: a comma list of origins, normalized; empty means same origin only", () => {
  assert.deepEqual(loadConfig({}).allowedOrigins, []);
  assert.deepEqual(
    loadConfig({ ALLOWED_ORIGINS: " https://Admin.Example.com , http://localhost:5173," }).allowedOrigins,
    ["https://admin.example.com", "http://localhost:5173"],
  );
});

test("ALLOWED_ORIGINS: anything that is not an origin stops the start, naming the entry", () => {
  for (const bad of ["*", "example.com", "https://example.com/app", "null", "ftp://example.com"]) {
    assert.throws(
      () => loadConfig({ ALLOWED_ORIGINS: `https://ok.example.com,${bad}` }),
      (error: unknown) =>
        error instanceof ConfigError && error.message.includes("ALLOWED_ORIGINS") && error.message.includes(bad),
      bad,
    );
  }
});

test("SLUICE_PERSONAL_DATA_KEY: 32 bytes of base64, or unset for the database's own; a bad one stops the start unrepeated", () => {
  assert.equal(loadConfig({}).personalDataKey, undefined);
  const key = randomBytes(32);
  assert.deepEqual(Buffer.from(loadConfig({ SLUICE_PERSONAL_DATA_KEY: key.toString("base64") }).personalDataKey!), key);
  const short = randomBytes(16).toString("base64");
  assert.throws(
    () => loadConfig({ SLUICE_PERSONAL_DATA_KEY: short }),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.message.includes("SLUICE_PERSONAL_DATA_KEY") &&
      !error.message.includes(short),
  );
});
