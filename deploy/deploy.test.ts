import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import Fastify from "fastify";
import { Registry } from "prom-client";
import { registerOperations } from "../apps/server/src/operations";
import { roleNames } from "../apps/server/src/roles/config";
import {
  composeProblems,
  composeSeconds,
  deployDir,
  dockerIgnores,
  dockerProblems,
  kubernetesProblems,
  ingressBackend,
  nginxRoutes,
  nginxUpstreams,
  probePaths,
  quantity,
  readCompose,
  readKustomization,
  type ComposeFile,
  type K8sObject,
  type Kustomized,
} from "./manifests";

const kubernetes = join(deployDir, "kubernetes");
const nginxConf = readFileSync(join(deployDir, "nginx.conf"), "utf8");
const run = promisify(execFile);

/** A deep copy of `kustomized` with `change` applied to it. */
function drifted(kustomized: Kustomized, change: (objects: K8sObject[]) => void): Kustomized {
  const objects = structuredClone(kustomized.objects);
  change(objects);
  return { ...kustomized, objects };
}

function composeDrifted(compose: ComposeFile, change: (compose: ComposeFile) => void): ComposeFile {
  const copy = structuredClone(compose);
  change(copy);
  return copy;
}

const workload = (objects: K8sObject[], name: string) => {
  const found = objects.find((object) => object.metadata.name === name && object.kind === "Deployment");
  assert.ok(found, `Deployment ${name}`);
  return found.spec!.template!.spec;
};

const matching = (problems: string[], pattern: RegExp) => problems.filter((problem) => pattern.test(problem));

describe("deploy/: the image, the compose file and the Kubernetes manifests agree with the code", () => {
  test("the image runs roles/main.ts through tsx as a user other than root, from a context that has what it needs", () => {
    assert.deepEqual(dockerProblems(), []);
    assert.equal(dockerIgnores("apps/server/node_modules/x/index.js", ["**/node_modules"]), true);
    assert.equal(dockerIgnores("packages/bus/src/outbox.test.ts", ["**/*.test.ts"]), true);
    assert.equal(dockerIgnores("docs/scaling.md", ["docs"]), true);
    assert.equal(dockerIgnores("deploy/readyz.mjs", ["deploy/kubernetes"]), false);
  });

  test("compose.yaml: every role, each environment valid for its role, dependencies, ports and health checks", () => {
    assert.deepEqual(composeProblems(readCompose(), { nginxConf }), []);
    assert.deepEqual(nginxUpstreams(nginxConf).sort(), ["gateway-1:8080", "gateway-2:8080"]);
  });

  test("nginx.conf: /auth and /.well-known/ to the auth role, the rest to the gateways, on every port", () => {
    const routes = nginxRoutes(nginxConf);
    assert.deepEqual(
      routes.map((route) => route.ports),
      [[8000], [8080], [8090]],
    );
    for (const route of routes) {
      assert.deepEqual(route.targets("/auth/signin"), ["auth:8084"]);
      assert.deepEqual(route.targets("/.well-known/jwks.json"), ["auth:8084"]);
      assert.deepEqual(route.targets("/metrics"), [], "/metrics stays inside");
    }
    assert.deepEqual(
      routes.map((route) => route.targets("/ws").sort()),
      [["gateway-1:8080", "gateway-2:8080"], ["gateway-1:8080"], ["gateway-2:8080"]],
    );
    assert.deepEqual(routes[0]!.targets("/authors"), ["gateway-1:8080", "gateway-2:8080"], "a prefix, not a word");
  });

  test("the Ingress picks its paths as the API says: the longest match, whole path elements, Exact first", () => {
    const to = (name: string) => ({ service: { name, port: { name: "http" } } });
    const paths = [
      { path: "/", pathType: "Prefix", backend: to("app") },
      { path: "/auth", pathType: "Prefix", backend: to("auth") },
      { path: "/auth/signin", pathType: "Exact", backend: to("signin") },
      { path: "/auth/signin", pathType: "Prefix", backend: to("signin-prefix") },
    ];
    const route = (request: string) => ingressBackend(paths, request)?.service.name;
    assert.equal(route("/auth/signin"), "signin");
    assert.equal(route("/auth/signin/x"), "signin-prefix");
    assert.equal(route("/auth/refresh"), "auth");
    assert.equal(route("/auth"), "auth");
    assert.equal(route("/authors"), "app");
    assert.equal(ingressBackend(paths.slice(1), "/ws"), undefined);
  });

  test("kubernetes/: a Deployment per role, environments, ports, probes, drain, Services, budget, autoscaler", () => {
    assert.deepEqual(kubernetesProblems(readKustomization(kubernetes)), []);
  });

  test("kubernetes/demo: the same plus the seed as a Job", () => {
    assert.deepEqual(kubernetesProblems(readKustomization(join(kubernetes, "demo")), { jobs: ["seed"] }), []);
  });

  test("the probes ask what the roles serve: readiness turns 503 while starting or draining, liveness does not", async () => {
    let ready = false;
    const app = Fastify();
    registerOperations(app, new Registry(), { ready: () => ready });
    try {
      assert.equal((await app.inject({ url: probePaths.readiness })).statusCode, 503);
      assert.equal((await app.inject({ url: probePaths.liveness })).statusCode, 200);
      ready = true;
      assert.equal((await app.inject({ url: probePaths.readiness })).statusCode, 200);
    } finally {
      await app.close();
    }
  });

  test("deploy/readyz.mjs, compose's health check, exits 0 only when /readyz answers 200", async () => {
    let ready = false;
    const app = Fastify();
    registerOperations(app, new Registry(), { ready: () => ready });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const port = String((app.server.address() as { port: number }).port);
    const readyz = join(deployDir, "readyz.mjs");
    try {
      await assert.rejects(run(process.execPath, [readyz, port]), { code: 1 });
      ready = true;
      await run(process.execPath, [readyz, port]);
    } finally {
      await app.close();
    }
    await assert.rejects(run(process.execPath, [readyz, port]), { code: 1 }, "nothing listens");
    await assert.rejects(run(process.execPath, [readyz]), { code: 2 });
  });

  test("Kubernetes quantities, compose durations", () => {
    assert.equal(quantity("500m"), 0.5);
    assert.equal(quantity("1536Mi"), 1536 * 2 ** 20);
    assert.equal(quantity("1Gi"), 2 ** 30);
    assert.equal(quantity("lots"), undefined);
    assert.equal(composeSeconds("1m30s"), 90);
    assert.equal(composeSeconds(undefined), 10);
  });
});

describe("the checks fail when the files drift from the code", () => {
  const compose = readCompose();
  const base = readKustomization(kubernetes);

  test("a role the code gains and nothing deploys", () => {
    const roles = [...roleNames, "notifier"];
    assert.ok(matching(composeProblems(compose, { roles }), /no service runs the notifier role/).length === 1);
    assert.ok(matching(kubernetesProblems(base, { roles }), /0 Deployments run the notifier role/).length === 1);
  });

  test("compose: /auth left to gateways that do not serve it, one gateway that disagrees on identity", () => {
    const problems = composeProblems(
      composeDrifted(compose, ({ services }) => {
        (services["gateway-2"]!.environment as Record<string, string>).ALLOWED_ORIGINS = "https://app.example.com";
      }),
      // The first server's (8000) /auth/ location gone: /auth falls to its `location /`.
      { nginxConf: nginxConf.replace(/location \/auth\/ \{[^}]*\}/, "") },
    );
    assert.deepEqual(matching(problems, /\/auth\/signin goes to/), [
      "nginx.conf: on 8000, /auth/signin goes to gateway-1:8080, a source-gateway with SERVE_AUTH=false, which does not serve it",
      "nginx.conf: on 8000, /auth/signin goes to gateway-2:8080, a source-gateway with SERVE_AUTH=false, which does not serve it",
    ]);
    assert.equal(matching(problems, /the roles disagree on identity: .*gateway-2: .*app\.example\.com/).length, 1);
    // The gateways serving /auth again is one fix; sending it to the auth role is the other.
    const serving = composeDrifted(compose, ({ services }) => {
      for (const gateway of ["gateway-1", "gateway-2"]) {
        delete (services[gateway]!.environment as Record<string, string>).SERVE_AUTH;
      }
    });
    assert.deepEqual(composeProblems(serving, { nginxConf: nginxConf.replace(/location \/auth\/ \{[^}]*\}/, "") }), []);
  });

  test("compose: nginx sending to the wrong port or nowhere, a published port nginx does not listen on", () => {
    const problems = composeProblems(
      composeDrifted(compose, ({ services }) => {
        services["load-balancer"]!.ports!.push("127.0.0.1:8443:8443");
      }),
      {
        nginxConf: nginxConf
          .replace("server auth:8084", "server auth:8080")
          .replace("proxy_pass http://gateway-2:8080;", "return 404;"),
      },
    );
    assert.equal(matching(problems, /on 8000, \/auth\/signin goes to auth:8080; auth listens on 8084/).length, 1);
    assert.deepEqual(matching(problems, /on 8090, .* reaches no role/), [
      "nginx.conf: on 8090, / reaches no role",
      "nginx.conf: on 8090, /ws reaches no role",
    ]);
    assert.equal(
      matching(problems, /load-balancer: publishes container port 8443, on which nginx.conf does not/).length,
      1,
    );
  });

  test("compose: nginx passing on a client's X-Forwarded-For, or a location that drops the forwarded headers", () => {
    const appended = composeProblems(compose, {
      nginxConf: nginxConf.replace(
        "proxy_set_header X-Forwarded-For $remote_addr;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
      ),
    });
    // Every port, every path: the headers are set once, for every location.
    assert.equal(matching(appended, /X-Forwarded-For is \$proxy_add_x_forwarded_for; at the edge/).length, 12);
    // A proxy_set_header of its own in a location: it inherits none of http's.
    const dropped = composeProblems(compose, {
      nginxConf: nginxConf.replace(
        "proxy_pass http://auth_role;",
        "proxy_pass http://auth_role;\n      proxy_set_header X-Request-Id $request_id;",
      ),
    });
    assert.deepEqual(matching(dropped, /at the edge/), [
      "nginx.conf: on 8000, /auth/signin: X-Forwarded-For is not set; at the edge it must be $remote_addr",
      "nginx.conf: on 8000, /auth/signin: X-Forwarded-Proto is not set; at the edge it must be $scheme",
      "nginx.conf: on 8000, /auth/signin: X-Forwarded-Host is not set; at the edge it must be $http_host",
    ]);
  });

  test("compose: a required variable missing, a dependency left to its loopback default, a wrong health check", () => {
    const problems = composeProblems(
      composeDrifted(compose, ({ services }) => {
        delete (services.projector!.environment as Record<string, string>).DATABASE_URL;
        delete (services["sink-1"]!.environment as Record<string, string>).KAFKA_BROKERS;
        services["gateway-2"]!.healthcheck!.test = ["CMD", "node", "deploy/readyz.mjs", "8081"];
        (services["domain-service"]!.environment as Record<string, string>).DATABASE_SCHEMA = "other";
        (services.auth!.environment as Record<string, string>).TRUST_PROXY = "";
      }),
      { nginxConf },
    );
    assert.equal(
      matching(problems, /projector: invalid environment .*\n.*DATABASE_URL: required by the projector/).length,
      1,
    );
    assert.equal(matching(problems, /sink-1: its kafka is 127\.0\.0\.1:9092, not a service/).length, 1);
    assert.equal(matching(problems, /gateway-2: healthcheck must be .*8080/).length, 1);
    assert.equal(matching(problems, /roles disagree on database/).length, 1);
    assert.equal(matching(problems, /compose auth: TRUST_PROXY is empty/).length, 1);
  });

  test("compose: a service gone, a port mapped to the wrong container port, the load balancer short of a gateway", () => {
    const problems = composeProblems(
      composeDrifted(compose, ({ services }) => {
        delete services.seed;
        services["gateway-1"]!.ports = ["127.0.0.1:8080:8081"];
        delete services["gateway-2"]!.stop_grace_period;
      }),
      { nginxConf: nginxConf.replace(/^\s*server gateway-2:.*$/m, "") },
    );
    assert.equal(matching(problems, /no service runs the seed role/).length, 1);
    assert.equal(matching(problems, /gateway-1: publishes container port 8081; the role listens on 8080/).length, 1);
    assert.equal(matching(problems, /gateway-2: stop_grace_period 10 s < drain 5 s \+ 10 s/).length, 1);
    assert.equal(matching(problems, /upstream source_gateways is gateway-1:8080; the gateways are/).length, 1);
  });

  test("kubernetes: the Secret without DATABASE_URL fails every role that needs it", () => {
    const problems = kubernetesProblems(
      drifted(base, (objects) => {
        const secret = objects.find((object) => object.kind === "Secret")!;
        delete secret.stringData!.DATABASE_URL;
      }),
    );
    const failing = matching(problems, /DATABASE_URL: required by the/);
    assert.deepEqual(failing.map((problem) => /container (\S+):/.exec(problem)?.[1]).sort(), [
      "auth",
      "domain-service",
      "projector",
      "source-gateway",
    ]);
  });

  test("kubernetes: a bad value, a missing ConfigMap", () => {
    const problems = kubernetesProblems(
      drifted(base, (objects) => {
        const config = objects.find((object) => object.kind === "ConfigMap")!;
        config.data!.KAFKA_BROKERS = "kafka";
        config.data!.TRUST_PROXY = "1";
        workload(objects, "sluice-projector").containers[0]!.envFrom![0]!.configMapRef!.name = "missing";
      }),
    );
    const containersOf = (pattern: RegExp) =>
      matching(problems, pattern).map((problem) => /container (\S+):/.exec(problem)?.[1]);
    assert.deepEqual(containersOf(/KAFKA_BROKERS: "kafka" is not host:port/), [
      "source-gateway",
      "sink-gateway",
      "domain-service",
      "auth",
    ]);
    assert.deepEqual(containersOf(/TRUST_PROXY: "1" is a hop count/), [
      "source-gateway",
      "sink-gateway",
      "domain-service",
      "auth",
    ]);
    assert.equal(matching(problems, /projector: envFrom names ConfigMap missing, which is not here/).length, 1);
  });

  test("kubernetes: no proxy trusted in front of the gateways and the auth role", () => {
    const problems = kubernetesProblems(
      drifted(base, (objects) => {
        delete objects.find((object) => object.kind === "ConfigMap")!.data!.TRUST_PROXY;
      }),
    );
    assert.deepEqual(
      matching(problems, /TRUST_PROXY is empty/).map((problem) => /container (\S+):/.exec(problem)?.[1]),
      ["source-gateway", "auth"],
    );
  });

  test("kubernetes: a dependency on loopback, roles that disagree on a dependency", () => {
    const problems = kubernetesProblems(
      drifted(base, (objects) => {
        workload(objects, "sluice-sink-gateway").containers[0]!.env = [
          { name: "REDIS_URL", value: "redis://127.0.0.1:6379" },
        ];
        workload(objects, "sluice-projector").containers[0]!.env = [
          { name: "SLUICE_PERSONAL_DATA_KEY", value: Buffer.alloc(32, 7).toString("base64") },
        ];
      }),
    );
    assert.equal(matching(problems, /sink-gateway: its redis is 127\.0\.0\.1, inside its own pod/).length, 1);
    assert.equal(matching(problems, /the roles disagree on redis/).length, 1);
    assert.equal(matching(problems, /the roles disagree on personalDataKey: .*not set.*a key/).length, 1);
  });

  test("kubernetes: ports, probes and the drain", () => {
    const problems = kubernetesProblems(
      drifted(base, (objects) => {
        workload(objects, "sluice-sink-gateway").containers[0]!.ports![0]!.containerPort = 8080;
        const gateway = workload(objects, "sluice-source-gateway");
        gateway.containers[0]!.readinessProbe!.httpGet!.path = "/healthz";
        gateway.terminationGracePeriodSeconds = 12;
        workload(objects, "sluice-domain-service").containers[0]!.livenessProbe!.httpGet!.port = 8083;
      }),
    );
    assert.equal(matching(problems, /sink-gateway: port "http" is 8080; the role listens on 8081/).length, 1);
    assert.equal(matching(problems, /readinessProbe asks \/healthz; the role answers it on \/readyz/).length, 1);
    assert.equal(matching(problems, /terminationGracePeriodSeconds 12 < preStop 10 s \+ drain 5 s/).length, 1);
    assert.equal(
      matching(problems, /domain-service: livenessProbe asks port 8083; the role listens on 8082/).length,
      1,
    );
  });

  test("kubernetes: the demo's seed on another image than the platform", () => {
    const demo = readKustomization(join(kubernetes, "demo"));
    const images = demo.images.map((image, index) => (index === 0 ? { ...image, newTag: "other" } : image));
    assert.equal(
      matching(kubernetesProblems({ ...demo, images }, { jobs: ["seed"] }), /name different sluice images/).length,
      1,
    );
  });

  test("kubernetes: a Deployment gone, a Service pointing nowhere, the autoscaler and the budget gone", () => {
    const problems = kubernetesProblems(
      drifted(base, (objects) => {
        objects.splice(
          objects.findIndex((object) => object.kind === "Deployment" && object.metadata.name === "sluice-projector"),
          1,
        );
        for (const kind of ["HorizontalPodAutoscaler", "PodDisruptionBudget"]) {
          objects.splice(
            objects.findIndex((object) => object.kind === kind && object.metadata.name === "sluice-source-gateway"),
            1,
          );
        }
      }),
    );
    assert.equal(matching(problems, /0 Deployments run the projector role/).length, 1);
    assert.equal(matching(problems, /Service sluice-projector: selects the pods of 0 Deployments/).length, 1);
    assert.equal(matching(problems, /no HorizontalPodAutoscaler/).length, 1);
    assert.equal(matching(problems, /no PodDisruptionBudget/).length, 1);
  });

  test("kubernetes: /auth left to gateways that do not serve it, the auth role on another signing key", () => {
    const problems = kubernetesProblems(
      drifted(base, (objects) => {
        const ingress = objects.find((object) => object.kind === "Ingress")!;
        const paths = ingress.spec!.rules![0]!.http!.paths;
        paths.splice(
          paths.findIndex((path) => path.path === "/auth"),
          1,
        );
        workload(objects, "sluice-auth").containers[0]!.env = [
          { name: "SLUICE_JWT_PRIVATE_KEY", value: "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI...\n" },
        ];
      }),
    );
    assert.deepEqual(matching(problems, /sends \/auth/), [
      "Ingress sluice (sluice.example.com): sends /auth/signin to Service sluice-source-gateway, whose pods are a source-gateway with SERVE_AUTH=false, which does not serve it",
    ]);
    assert.equal(matching(problems, /the roles disagree on signingKey: .*not set.*a key/).length, 1);
    assert.equal(matching(problems, /BEGIN PRIVATE KEY/).length, 0, "a key is never shown");
  });

  test("kubernetes: the Ingress to a Service that is not there, or to a port it does not have", () => {
    const problems = kubernetesProblems(
      drifted(base, (objects) => {
        const paths = objects.find((object) => object.kind === "Ingress")!.spec!.rules![0]!.http!.paths;
        paths.find((path) => path.path === "/.well-known")!.backend.service.name = "sluice-identity";
        paths.find((path) => path.path === "/")!.backend.service.port = { number: 8080 };
      }),
    );
    assert.equal(
      matching(problems, /sends \/\.well-known\/jwks\.json to Service sluice-identity, which reaches no Deployment/)
        .length,
      1,
    );
    assert.equal(
      matching(problems, /sends \/ws to port 8080 of Service sluice-source-gateway, which it does not/).length,
      1,
    );
  });
});
