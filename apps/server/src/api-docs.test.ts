// The REST API docs: the OpenAPI document lists the identity endpoints from their schemas, and
// Swagger UI renders them in a real browser (Debian's Chromium) under the server's CSP, with no
// violation reported.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { chromium, type Browser } from "playwright-core";
import type { RunningServer } from "./server";
import { testServer } from "./test-support";

let server: RunningServer;
let browser: Browser;

before(async () => {
  [server, browser] = await Promise.all([
    testServer(),
    chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    }),
  ]);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { requestBody?: unknown; responses?: Record<string, unknown> }>>;
}

test("/docs/json is an OpenAPI 3 document of the /auth endpoints, with their bodies and replies", async () => {
  const response = await fetch(`${server.url}/docs/json`);
  assert.equal(response.status, 200);
  const document = (await response.json()) as OpenApiDocument;
  assert.match(document.openapi, /^3\./);
  const authRoutes = Object.entries(document.paths)
    .filter(([path]) => path.startsWith("/auth/"))
    .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
  for (const route of ["POST /auth/signin", "POST /auth/signout", "GET /auth/me"]) {
    assert.ok(authRoutes.includes(route), `${route} is documented (documented: ${authRoutes.join(", ")})`);
  }
  const signIn = document.paths["/auth/signin"]!.post!;
  assert.ok(signIn.requestBody, "sign-in documents its body");
  assert.ok(signIn.responses?.["200"], "sign-in documents its reply");
  // Swagger UI's own routes are not part of the API.
  assert.ok(!Object.keys(document.paths).some((path) => path.startsWith("/docs")));
});

test("Swagger UI at /docs renders the endpoints under the Content-Security-Policy, with no violation", async () => {
  const page = await browser.newPage({ baseURL: server.url });
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  const response = await page.goto("/docs");
  assert.equal(response?.status(), 200);
  assert.match(response?.headers()["content-security-policy"] ?? "", /script-src 'self';/);
  await page.getByText("/auth/signin", { exact: true }).first().waitFor({ timeout: 10_000 });
  await page.getByText("/auth/me", { exact: true }).first().waitFor();
  assert.deepEqual(violations, []);
  await page.close();
});
