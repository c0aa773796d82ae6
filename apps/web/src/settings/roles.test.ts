import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { assignableRoles, capabilities, mayChangeMember, mayManageMembers } from "./roles";

const owner = { userId: "o1", role: "owner" as const };
const admin = { userId: "a1", role: "admin" as const };
const dispatcher = { userId: "d1", role: "dispatcher" as const };
const viewer = { userId: "v1", role: "viewer" as const };

describe("member rules", () => {
  test("only owners and admins manage members", () => {
    assert.deepEqual(
      [owner, admin, dispatcher, viewer].map((actor) => mayManageMembers(actor.role)),
      [true, true, false, false],
    );
  });

  test("an admin cannot grant owner; an owner may grant any role; others none", () => {
    assert.deepEqual(assignableRoles("owner"), ["owner", "admin", "dispatcher", "viewer"]);
    assert.deepEqual(assignableRoles("admin"), ["admin", "dispatcher", "viewer"]);
    assert.deepEqual(assignableRoles("dispatcher"), []);
  });

  test("nobody changes themselves; an admin leaves owners alone; the last owner stays", () => {
    const members = [owner, admin, dispatcher, viewer];
    assert.equal(mayChangeMember(owner, owner, members), false);
    assert.equal(mayChangeMember(owner, admin, members), true);
    assert.equal(mayChangeMember(admin, owner, members), false);
    assert.equal(mayChangeMember(admin, dispatcher, members), true);
    assert.equal(mayChangeMember(dispatcher, viewer, members), false);
    const secondOwner = { userId: "o2", role: "owner" as const };
    assert.equal(mayChangeMember(owner, secondOwner, [...members, secondOwner]), true);
    assert.equal(mayChangeMember(secondOwner, owner, [owner, secondOwner]), true);
  });
});

describe("the roles page", () => {
  test("the Dispatch rows follow the method policies of the .proto files", () => {
    const minimum = Object.fromEntries(capabilities.map((row) => [row.label, row.minimum]));
    assert.equal(minimum["See projects, orders, routes and activity"], "viewer");
    assert.equal(minimum["Create and change projects, orders and routes"], "dispatcher");
    assert.equal(minimum["Erase an order's personal data (consignee and address), for good"], "admin");
  });
});
