#!/usr/bin/env node
// A container's health check: exits 0 when the role in this container answers 200 on /readyz
// (503 while it starts or drains), 1 otherwise. `node deploy/readyz.mjs <port>`; compose.yaml's
// healthchecks run it, since the image has no curl. Kubernetes probes /readyz by itself.
const port = Number(process.argv[2] ?? process.env.PORT);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error("usage: node deploy/readyz.mjs <port>");
  process.exit(2);
}
try {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
  process.exit(response.status === 200 ? 0 : 1);
} catch {
  process.exit(1);
}
