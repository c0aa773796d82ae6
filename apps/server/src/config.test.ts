import assert from "node:assert/strict";
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
