// Two dispatchers, two browsers, one route: each sees the other's changes and presence live,
// against the real server (embedded shape, in-memory database) and the built web app.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import type { RunningServer } from "@sluice/server";
import { testServer } from "@sluice/server/test-support";
import { buildWebForTest, launchChromium, newDevice, signIn, step as photographedStep } from "./browser";

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

  const stop = (page: Page, position: number, consignee: string) =>
    page.getByRole("listitem", { name: `Stop ${position}: ${consignee}` });
  const viewer = (page: Page, name: string) =>
    page.getByRole("list", { name: "Also viewing" }).getByRole("listitem", { name });

  async function createOrder(page: Page, consignee: string, weightKg: number): Promise<void> {
    await page.getByRole("button", { name: "New order" }).first().click();
    const form = page.getByRole("form", { name: "Create order" });
    // The dialog starts at its first field: typing goes straight into it.
    await form.getByLabel("Consignee").and(page.locator(":focus")).waitFor();
    await page.keyboard.type(consignee);
    assert.equal(await form.getByLabel("Consignee").inputValue(), consignee);
    await form.getByLabel("Address").fill(`${consignee} street 1, Rotterdam`);
    await form.getByLabel("Weight (kg)").fill(String(weightKg));
    await form.getByRole("button", { name: "Create order" }).click();
    await page.getByTestId("order-row").filter({ hasText: consignee }).waitFor();
  }

  async function addToRoute(page: Page, consignee: string, position: string): Promise<void> {
    const form = page.getByRole("form", { name: "Add an order to the route" });
    const option = form.getByLabel("Order").locator("option", { hasText: consignee });
    await form.getByLabel("Order").selectOption((await option.getAttribute("value")) ?? "");
    await form.getByLabel("Position").selectOption({ label: position });
    await form.getByRole("button", { name: "Add to route" }).click();
  }

  // The tests run in order and build on each other: one project, one route, two people.
  let routeUrl = "";

  test("both see each other's stops, order and presence without reloading", async () => {
    await step("ana plans a project with two orders and a route", async () => {
      await ana
        .getByRole("link", { name: /^Orders board/ })
        .first()
        .click();
      await ana.getByLabel("Project name").fill("Collaboration test");
      await ana.getByRole("button", { name: "Create project" }).click();
      await ana.getByRole("heading", { name: "Orders board" }).waitFor();
      await createOrder(ana, "Alpha Bakery", 200);
      await createOrder(ana, "Bravo Metals", 300);
      await ana.getByRole("navigation", { name: "Dispatch modules" }).getByRole("link", { name: "Routes" }).click();
      await ana.getByRole("button", { name: "New route" }).first().click();
      const form = ana.getByRole("form", { name: "Create route" });
      await form.getByLabel("Route name").fill("West");
      await form.getByLabel("Vehicle capacity (kg)").fill("1000");
      await form.getByRole("button", { name: "Create route" }).click();
      await ana.getByRole("heading", { name: "West", level: 1 }).waitFor();
      routeUrl = new URL(ana.url()).pathname;
    });

    await step("ben opens the same route and each sees the other", async () => {
      await ben.goto(routeUrl);
      await ben.getByRole("heading", { name: "West", level: 1 }).waitFor();
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
      await ben.locator('[role="meter"][aria-label="Vehicle load"][aria-valuenow="500"]').waitFor();
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
      await ana.locator('[role="meter"][aria-label="Vehicle load"][aria-valuenow="300"]').waitFor();
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
