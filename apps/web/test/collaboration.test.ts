// Two dispatchers, two browsers, one route: each sees the other's changes and presence live,
// against the real server (embedded shape, in-memory database) and the built web app.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import type { RunningServer } from "@sluice/server";
import { testServer } from "@sluice/server/test-support";
import { buildWebForTest, launchChromium, newDevice, signIn, step as photographedStep } from "./browser";
import { addToRoute, createOrder, createProject, createRoute, load, openRoute, stop, viewer } from "./dispatch";

describe("collaboration on a route sheet", () => {
  let web: Awaited<ReturnType<typeof buildWebForTest>> | undefined;
  let server: RunningServer;
  let browser: Browser;
  let ana: Page;
  let ben: Page;

  before(async () => {
    web = await buildWebForTest();
    [server, browser] = await Promise.all([testServer({ webDist: web.dir }), launchChromium()]);
    [ana, ben] = await Promise.all([
      newDevice(browser, server.url).then((page) => signIn(page, "ana@acme.test")),
      newDevice(browser, server.url).then((page) => signIn(page, "ben@acme.test")),
    ]);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await web?.remove();
  });

  /** Runs a step; when it fails, both browsers are photographed into test-results/. */
  const step = (name: string, run: () => Promise<void>) => photographedStep(name, () => [ana, ben], run);

  // The tests run in order and build on each other: one project, one route, two people.
  let routeUrl = "";

  test("both see each other's stops, order and presence without reloading", async () => {
    await step("ana plans a project with two orders and a route", async () => {
      await createProject(ana, "Collaboration test");
      await createOrder(ana, "Alpha Bakery", 200);
      await createOrder(ana, "Bravo Metals", 300);
      routeUrl = await createRoute(ana, "West", 1000);
    });

    await step("ben opens the same route and each sees the other", async () => {
      await openRoute(ben, routeUrl, "West");
      await viewer(ben, "Ana Alvarez").waitFor();
      await viewer(ana, "Ben Brandt").waitFor();
    });

    await step("ana adds orders; ben sees each stop and the load", async () => {
      await addToRoute(ana, "Alpha Bakery", "At the end");
      await stop(ana, 1, "Alpha Bakery").waitFor();
      await stop(ben, 1, "Alpha Bakery").waitFor();
      await addToRoute(ana, "Bravo Metals", "Before stop 1 (Alpha Bakery)");
      await stop(ana, 1, "Bravo Metals").waitFor();
      await stop(ben, 1, "Bravo Metals").waitFor();
      await stop(ben, 2, "Alpha Bakery").waitFor();
      await load(ben, 500).waitFor();
    });

    await step("ana reorders; ben sees the new order", async () => {
      await ana.getByRole("button", { name: "Move Alpha Bakery up" }).click();
      await stop(ana, 1, "Alpha Bakery").waitFor();
      await stop(ben, 1, "Alpha Bakery").waitFor();
      await stop(ben, 2, "Bravo Metals").waitFor();
    });

    await step("ben reorders and takes a stop off; ana sees both", async () => {
      await ben.getByRole("button", { name: "Move Bravo Metals up" }).click();
      await stop(ben, 1, "Bravo Metals").waitFor();
      await stop(ana, 1, "Bravo Metals").waitFor();
      await stop(ana, 2, "Alpha Bakery").waitFor();
      await ben.getByRole("button", { name: "Take Alpha Bakery off the route" }).click();
      await stop(ana, 2, "Alpha Bakery").waitFor({ state: "detached" });
      await load(ana, 300).waitFor();
      assert.deepEqual(
        await ana.getByTestId("stop").evaluateAll((items) => items.map((item) => item.getAttribute("aria-label"))),
        ["Stop 1: Bravo Metals"],
      );
    });

    await step("ben leaves for the orders board; ana's presence list empties", async () => {
      const ordersUrl = routeUrl.replace(/routes\/[^/]+$/, "orders");
      await ben.goto(ordersUrl);
      await ben.getByTestId("order-row").filter({ hasText: "Bravo Metals" }).waitFor();
      await viewer(ana, "Ben Brandt").waitFor({ state: "detached" });
    });
  });

  test("an edit of an order someone changed meanwhile is refused as CONFLICT and shown so", async () => {
    await step("ana saves an edit of an order ben changed meanwhile", async () => {
      await ana.getByRole("navigation", { name: "Dispatch modules" }).getByRole("link", { name: "Orders" }).click();
      await ana.getByRole("button", { name: "Edit order for Bravo Metals" }).click();
      const anaForm = ana.getByRole("form", { name: "Save changes" });
      await anaForm.getByLabel("Address").fill("Bravo street 2, Rotterdam");

      await ben.getByRole("button", { name: "Edit order for Bravo Metals" }).click();
      const benForm = ben.getByRole("form", { name: "Save changes" });
      await benForm.getByLabel("Weight (kg)").fill("310");
      await benForm.getByRole("button", { name: "Save changes" }).click();
      await benForm.waitFor({ state: "detached" });

      await anaForm.getByRole("button", { name: "Save changes" }).click();
      const toast = ana.getByTestId("toast").filter({ hasText: "Someone changed this first" });
      await toast.getByText("CONFLICT").waitFor();
      // The conflict reloads the board: ana now sees what ben saved.
      await ana.getByTestId("order-row").filter({ hasText: "Bravo Metals" }).getByText("310 kg").waitFor();
      await ana.getByRole("dialog").getByRole("button", { name: "Close" }).click();
    });
  });

  test("an order's edit reaches the other browser live", async () => {
    await step("ben edits an order; ana sees the edit live", async () => {
      await ben.getByRole("button", { name: "Edit order for Bravo Metals" }).click();
      const benForm = ben.getByRole("form", { name: "Save changes" });
      await benForm.getByLabel("Consignee").fill("Bravo Metals B.V.");
      await benForm.getByRole("button", { name: "Save changes" }).click();
      await ana.getByTestId("order-row").filter({ hasText: "Bravo Metals B.V." }).waitFor();
    });
  });

  test("the gallery's stop list reorders by keyboard and by drag and drop", async () => {
    const page = await ana.context().newPage();
    try {
      await page.goto("/design-system");
      const list = page.getByRole("list", { name: "Sample stops" });
      const order = () =>
        list.getByTestId("stop").evaluateAll((items) => items.map((item) => item.getAttribute("aria-label")));
      await list.getByRole("listitem", { name: "Stop 1: Acme Retail" }).focus();
      await page.keyboard.press("Alt+ArrowDown");
      await list.getByRole("listitem", { name: "Stop 2: Acme Retail" }).waitFor();
      assert.equal(
        await page.evaluate(() => document.activeElement?.getAttribute("aria-label")),
        "Stop 2: Acme Retail",
      );
      await list
        .getByRole("listitem", { name: "Stop 3: Initech" })
        .dragTo(list.getByRole("listitem", { name: "Stop 1: Globex Foods" }));
      await list.getByRole("listitem", { name: "Stop 1: Initech" }).waitFor();
      assert.deepEqual(await order(), ["Stop 1: Initech", "Stop 2: Globex Foods", "Stop 3: Acme Retail"]);
    } finally {
      await page.close();
    }
  });
});
