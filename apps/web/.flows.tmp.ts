import { chromium } from "playwright-core";
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless=new", "--no-sandbox", "--disable-gpu"],
});
const page = await (
  await browser.newContext({ baseURL: "http://127.0.0.1:8089", viewport: { width: 1280, height: 800 } })
).newPage();
page.setDefaultTimeout(8000);
page.on("pageerror", (e) => console.log("pageerror:", e.message));
try {
  await page.goto("/signin");
  await page.getByLabel("Email").fill("ben@acme.test");
  await page.getByLabel("Password").fill("dispatch");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("[data-testid=connection-status][data-state=connected]").waitFor();
  await page.goto("/dispatch/orders");
  await page.getByTestId("project-row").first().click();
  await page.getByRole("button", { name: "Edit order for Kaasboer Gouda" }).click();
  const form = page.getByRole("form", { name: "Save changes" });
  await form.getByLabel("Consignee").fill("Kaasboer Gouda B.V.");
  await form.getByRole("button", { name: "Save changes" }).click();
  await page.getByTestId("order-row").filter({ hasText: "Kaasboer Gouda B.V." }).waitFor();
  console.log("edited");
  await page.getByRole("button", { name: "Cancel order for Maas Metaal" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Cancel order" }).click();
  await page.getByTestId("order-row").filter({ hasText: "Maas Metaal" }).getByText("Cancelled").waitFor();
  console.log("cancelled");
  await page.getByRole("link", { name: "North" }).first().click();
  await page.getByTestId("stop").first().waitFor();
  await page.getByRole("button", { name: "Dispatch route" }).click();
  await page.getByText("Dispatched").first().waitFor();
  await page.screenshot({ path: "/tmp/shots/dispatched.png" });
  await page.getByRole("button", { name: "Complete route" }).click();
  await page.getByText("Completed").first().waitFor();
  console.log("completed");
  await page.getByRole("navigation", { name: "Dispatch modules" }).getByRole("link", { name: "Orders" }).click();
  await page.getByTestId("order-row").first().waitFor();
  await page.screenshot({ path: "/tmp/shots/orders-after.png" });
} catch (e) {
  console.log("FAILED", e);
  await page.screenshot({ path: "/tmp/shots/fail.png" });
}
await browser.close();
