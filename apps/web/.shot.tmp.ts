import { chromium } from "playwright-core";
const base = "http://127.0.0.1:8089";
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless=new", "--no-sandbox", "--disable-gpu"],
});
const page = await (await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 800 } })).newPage();
page.on("pageerror", (e) => console.log("pageerror:", e.message));
page.on("response", (r) => {
  if (r.status() >= 400) console.log("HTTP", r.status(), r.url());
});
try {
  await page.goto("/");
  await page.getByLabel("Email").waitFor();
  await page.screenshot({ path: "/tmp/shots/signin.png" });
  await page.getByLabel("Email").fill("ana@acme.test");
  await page.getByLabel("Password").fill("wrong");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").first().waitFor();
  await page.screenshot({ path: "/tmp/shots/signin-error.png" });
  await page.getByLabel("Password").fill("dispatch");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("[data-testid=connection-status][data-state=connected]").waitFor();
  await page.goto("/dispatch");
  await page.getByTestId("project-row").first().waitFor();
  await page.screenshot({ path: "/tmp/shots/picker.png" });
  await page.getByTestId("project-row").first().click();
  await page.getByTestId("order-row").first().waitFor();
  await page.getByRole("button", { name: "New order" }).first().click();
  await page.getByRole("button", { name: "Create order" }).click();
  await page.screenshot({ path: "/tmp/shots/new-order.png" });
  await page.keyboard.press("Escape");
  await page.getByRole("navigation", { name: "Dispatch modules" }).getByRole("link", { name: "Routes" }).click();
  await page.getByTestId("route-row").first().waitFor();
  await page.screenshot({ path: "/tmp/shots/routes.png" });
  await page.getByTestId("route-row").first().getByRole("link").click();
  await page.getByTestId("stop").first().waitFor();
  // Over capacity: add Maas Metaal (950 kg) to North (650 of 1000): the domain refuses.
  const form = page.getByRole("form", { name: "Add an order to the route" });
  const value = await form.getByLabel("Order").locator("option", { hasText: "Maas Metaal" }).getAttribute("value");
  await form.getByLabel("Order").selectOption(value ?? "");
  await form.getByRole("button", { name: "Add to route" }).click();
  await page.getByTestId("toast").first().waitFor();
  await page.screenshot({ path: "/tmp/shots/route-error.png" });
  await page.getByRole("navigation", { name: "Dispatch modules" }).getByRole("link", { name: "Activity" }).click();
  await page.getByTestId("activity-entry").first().waitFor();
  await page.screenshot({ path: "/tmp/shots/activity.png" });
} catch (e) {
  console.log("FAILED", e);
  await page.screenshot({ path: "/tmp/shots/fail.png" });
}
await browser.close();
