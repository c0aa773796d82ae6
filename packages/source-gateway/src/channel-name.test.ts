import assert from "node:assert/strict";
import { test } from "node:test";
import { isChannelName } from "./channel-name";

test("only org, project:<uuid> and route:<uuid> are channel names", () => {
  const id = "3f6c1a52-9b7e-4c1d-8f0a-2b3c4d5e6f70";
  for (const name of ["org", `project:${id}`, `route:${id}`]) assert.equal(isChannelName(name), true, name);
  for (const name of [
    "",
    "orgs",
    `project:${id}x`,
    "project:nope",
    `other/org`,
    `org/project:${id}`,
    `route:${id}/x`,
  ]) {
    assert.equal(isChannelName(name), false, name);
  }
});
