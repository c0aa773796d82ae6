// The built web app against the scale-out shape (every role a process of its own, on Kafka, Redis and
// PostgreSQL): two dispatchers, each on another source gateway, see each other's presence and changes
// live, as they do against the embedded server (collaboration.test.ts, which covers the rest).
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { scaleOutTestSkip, ScaleOutDeployment } from "@sluice/server/roles/testing";
import { buildWebForTest, launchChromium, newDevice, signIn, step as photographedStep } from "./browser";
import { addToRoute, createOrder, createProject, createRoute, load, openRoute, stop, viewer } from "./dispatch";

const skip = await scaleOutTestSkip();

describe("the web app on two source gateways of the scale-out shape", { skip, timeout: 300_000 }, () => {
  const deployment = new ScaleOutDeployment();
  let web: Awaited<ReturnType<typeof buildWebForTest>> | undefined;
  let browser: Browser | undefined;
  let ana: Page;
  let ben: Page;

  before(async () => {
    // The SPA builds and Chromium starts while the deployment's first processes do; each is kept as
    // soon as it is there, so that `after` ends it even when another part failed.
    await Promise.all([
      buildWebForTest().then((built) => (web = built)),
      launchChromium().then((launched) => (browser = launched)),
      // The domain service first: it creates the event store's tables and the Kafka topics the others use.
      deployment.seed().then(() => deployment.start({ role: "domain-service", name: "domain service" })),
    ]);
    // Each gateway serves this run's build of the SPA. Queries may wait longer than by default for
    // the projector, a process of its own on a shared machine: a page's first read answered stale
    // would not show what its own command just did.
    const env = { WEB_DIST: web!.dir, READ_YOUR_WRITES_WAIT_MS: "8000" };
    const [, , gateway1, gateway2] = await Promise.all([
      deployment.start({ role: "projector", name: "projector" }),
      deployment.start({ role: "sink-gateway", name: "sink gateway" }),
      deployment.start({ role: "source-gateway", name: "source gateway 1", env }),
      deployment.start({ role: "source-gateway", name: "source gateway 2", env }),
    ]);
    [ana, ben] = await Promise.all([
      newDevice(browser!, gateway1.url).then((page) => signIn(page, "ana@acme.test")),
      newDevice(browser!, gateway2.url).then((page) => signIn(page, "ben@acme.test")),
    ]);
  });

  after(async () => {
    await browser?.close();
    await deployment.cleanUp();
    await web?.remove();
  });

  /** Runs a step; when it fails, both browsers are photographed into test-results/. */
  const step = (name: string, run: () => Promise<void>) => photographedStep(name, () => [ana, ben], run);

  test("ana on gateway 1 and ben on gateway 2 see each other's presence and stops without reloading", async () => {
    let routeUrl = "";
    await step("scale-out: ana plans a project with an order and a route on gateway 1", async () => {
      await createProject(ana, "Scale-out test");
      await createOrder(ana, "Alpha Bakery", 200);
      routeUrl = await createRoute(ana, "West", 1000);
    });

    await step("scale-out: ben opens the route on gateway 2 and each sees the other", async () => {
      await openRoute(ben, routeUrl, "West");
      await viewer(ben, "Ana Alvarez").waitFor();
      await viewer(ana, "Ben Brandt").waitFor();
    });

    await step("scale-out: ana adds the order; ben sees the stop; ben takes it off; ana sees it go", async () => {
      await addToRoute(ana, "Alpha Bakery", "At the end");
      await stop(ben, 1, "Alpha Bakery").waitFor();
      await load(ben, 200).waitFor();
      await ben.getByRole("button", { name: "Take Alpha Bakery off the route" }).click();
      await stop(ana, 1, "Alpha Bakery").waitFor({ state: "detached" });
      await load(ana, 0).waitFor();
    });
  });
});
