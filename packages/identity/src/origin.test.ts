import assert from "node:assert/strict";
import { test } from "node:test";
import { isAllowedOrigin, parseOrigin } from "./origin";

test("the server's own origin is the one whose host is the request's Host, whatever the scheme", () => {
  const none = new Set<string>();
  assert.equal(isAllowedOrigin("http://localhost:8080", "localhost:8080", none), true);
  assert.equal(isAllowedOrigin("https://App.Example.com", "app.example.com", none), true);
  assert.equal(isAllowedOrigin("http://localhost:8081", "localhost:8080", none), false);
  assert.equal(isAllowedOrigin("http://evil.test", "localhost:8080", none), false);
  assert.equal(isAllowedOrigin("http://localhost:8080", undefined, none), false);
  // A Host header may name the scheme's default port; the Origin never does.
  assert.equal(isAllowedOrigin("http://localhost", "localhost:80", none), true);
  assert.equal(isAllowedOrigin("https://app.example.com", "app.example.com:443", none), true);
  assert.equal(isAllowedOrigin("https://app.example.com", "app.example.com:80", none), false);
  assert.equal(isAllowedOrigin("http://localhost", "local host", none), false);
});

test("other origins only from the allow list, compared normalized", () => {
  const allowed = new Set([parseOrigin("https://admin.example.com")!.origin]);
  assert.equal(isAllowedOrigin("https://admin.example.com", "api.example.com", allowed), true);
  assert.equal(isAllowedOrigin("https://ADMIN.example.com:443", "api.example.com", allowed), true);
  assert.equal(isAllowedOrigin("http://admin.example.com", "api.example.com", allowed), false);
  assert.equal(isAllowedOrigin("https://admin.example.com.evil.test", "api.example.com", allowed), false);
});

test("what is not an origin is never allowed", () => {
  for (const origin of [
    "null",
    "",
    "file://",
    "ws://localhost:8080",
    "http://localhost:8080/path",
    "http://u:p@localhost:8080",
    "http://localhost:8080/",
    "localhost:8080",
  ]) {
    assert.equal(parseOrigin(origin), undefined, origin);
    assert.equal(isAllowedOrigin(origin, "localhost:8080", new Set()), false, origin);
  }
});
