import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { describeUserAgent, formatDate } from "./format";

describe("devices", () => {
  test("a User-Agent reads as browser and system", () => {
    const cases: Array<[string | null, string]> = [
      [
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Chrome on Linux",
      ],
      [
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
        "Chrome on Linux",
      ],
      ["Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Windows"],
      [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        "Safari on iOS",
      ],
      [
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        "Edge on macOS",
      ],
      [
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
        "Chrome on Android",
      ],
      ["node", "A program"],
      ["", "Unknown device"],
      [null, "Unknown device"],
    ];
    for (const [userAgent, expected] of cases) assert.equal(describeUserAgent(userAgent), expected, String(userAgent));
  });

  test("an unreadable instant shows as nothing", () => {
    assert.equal(formatDate(Number.NaN), "");
    assert.notEqual(formatDate(Date.UTC(2026, 10, 25)), "");
  });
});
