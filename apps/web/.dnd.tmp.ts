import { chromium } from "playwright-core";
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless=new", "--no-sandbox", "--disable-gpu"],
});
const page = await (await browser.newContext({ baseURL: "http://127.0.0.1:8089" })).newPage();
page.setDefaultTimeout(5000);
await page.goto("/design-system");
const list = page.getByRole("list", { name: "Sample stops" });
const labels = () => list.getByTestId("stop").evaluateAll((els) => els.map((e) => e.getAttribute("aria-label")));
console.log(await labels());
await list
  .getByRole("listitem", { name: "Stop 3: Initech" })
  .dragTo(list.getByRole("listitem", { name: "Stop 1: Acme Retail" }));
console.log("after drag", await labels());
await list.getByRole("listitem", { name: /Initech/ }).focus();
await page.keyboard.press("Alt+ArrowDown");
console.log("after alt+down", await labels());
console.log("focused", await page.evaluate(() => document.activeElement?.getAttribute("aria-label")));
await browser.close();
