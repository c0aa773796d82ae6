// What a dispatcher does in the browser tests, shared by those against the embedded server and those
// against the scale-out shape: the same clicks and the same reading of the page, so both shapes are
// held to one app.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";

/** From the launcher: a new project, landing on its orders board. */
export async function createProject(page: Page, name: string): Promise<void> {
  await page
    .getByRole("link", { name: /^Orders board/ })
    .first()
    .click();
  await page.getByLabel("Project name").fill(name);
  await page.getByRole("button", { name: "Create project" }).click();
  await page.getByRole("heading", { name: "Orders board" }).waitFor();
}

/** On the orders board: a new order, waiting until its row shows. */
export async function createOrder(page: Page, consignee: string, weightKg: number): Promise<void> {
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

/** From a project's page: a new route, landing on its sheet; resolves with the sheet's path. */
export async function createRoute(page: Page, name: string, capacityKg: number): Promise<string> {
  await page.getByRole("navigation", { name: "Dispatch modules" }).getByRole("link", { name: "Routes" }).click();
  await page.getByRole("button", { name: "New route" }).first().click();
  const form = page.getByRole("form", { name: "Create route" });
  await form.getByLabel("Route name").fill(name);
  await form.getByLabel("Vehicle capacity (kg)").fill(String(capacityKg));
  await form.getByRole("button", { name: "Create route" }).click();
  await page.getByRole("heading", { name, level: 1 }).waitFor();
  return new URL(page.url()).pathname;
}

/** Opens a route sheet by its path (another person's link), waiting for its heading. */
export async function openRoute(page: Page, path: string, name: string): Promise<void> {
  await page.goto(path);
  await page.getByRole("heading", { name, level: 1 }).waitFor();
}

/** On a route sheet: puts the consignee's order on the route at the position named as the form does. */
export async function addToRoute(page: Page, consignee: string, position: string): Promise<void> {
  const form = page.getByRole("form", { name: "Add an order to the route" });
  const option = form.getByLabel("Order").locator("option", { hasText: consignee });
  await form.getByLabel("Order").selectOption((await option.getAttribute("value")) ?? "");
  await form.getByLabel("Position").selectOption({ label: position });
  await form.getByRole("button", { name: "Add to route" }).click();
}

/** A route sheet's stop, as a screen reader names it. */
export const stop = (page: Page, position: number, consignee: string) =>
  page.getByRole("listitem", { name: `Stop ${position}: ${consignee}` });

/** Someone else on the same route sheet (presence). */
export const viewer = (page: Page, name: string) =>
  page.getByRole("list", { name: "Also viewing" }).getByRole("listitem", { name });

/** The route sheet's load meter once it reads `kg`. */
export const load = (page: Page, kg: number) =>
  page.locator(`[role="meter"][aria-label="Vehicle load"][aria-valuenow="${kg}"]`);
