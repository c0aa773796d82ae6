import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode } from "@sluice/rpc";
import { invitationRefusal, removalRefusal, roleChangeRefusal } from "./member-rules";
import { roleNames, type RoleName } from "./roles";

const codeOf = (refusal: { code: ErrorCode } | undefined) => refusal?.code;

describe("member rules", () => {
  test("only owners and admins invite; only owners invite owners", () => {
    const allowed = roleNames.flatMap((actor) =>
      roleNames.filter((role) => invitationRefusal(actor, role) === undefined).map((role) => `${actor}→${role}`),
    );
    assert.deepEqual(allowed, [
      "admin→viewer",
      "admin→dispatcher",
      "admin→admin",
      "owner→viewer",
      "owner→dispatcher",
      "owner→admin",
      "owner→owner",
    ]);
  });

  test("role changes: nobody their own, admins never to or from owner", () => {
    const change = (actorRole: RoleName, targetRole: RoleName, newRole: RoleName, self = false) =>
      codeOf(roleChangeRefusal({ actorId: "a", actorRole, targetId: self ? "a" : "b", targetRole, newRole }));
    assert.equal(change("owner", "viewer", "owner"), undefined);
    assert.equal(change("owner", "owner", "admin"), undefined);
    assert.equal(change("admin", "viewer", "admin"), undefined);
    assert.equal(change("admin", "viewer", "owner"), ErrorCode.PERMISSION_DENIED);
    assert.equal(change("admin", "owner", "viewer"), ErrorCode.PERMISSION_DENIED);
    assert.equal(change("owner", "owner", "viewer", true), ErrorCode.PERMISSION_DENIED);
    assert.equal(change("dispatcher", "viewer", "dispatcher"), ErrorCode.PERMISSION_DENIED);
    assert.equal(change("viewer", "viewer", "viewer"), ErrorCode.PERMISSION_DENIED);
  });

  test("removals: admins never remove owners; the last owner stays", () => {
    const remove = (actorRole: RoleName, targetRole: RoleName, ownerCount: number, self = false) =>
      codeOf(removalRefusal({ actorId: "a", actorRole, targetId: self ? "a" : "b", targetRole, ownerCount }));
    assert.equal(remove("owner", "owner", 2), undefined);
    assert.equal(remove("owner", "owner", 2, true), undefined, "an owner may leave while another stays");
    assert.equal(remove("owner", "owner", 1, true), ErrorCode.FAILED_PRECONDITION);
    assert.equal(remove("admin", "owner", 2), ErrorCode.PERMISSION_DENIED);
    assert.equal(remove("admin", "admin", 1), undefined);
    assert.equal(remove("admin", "dispatcher", 1), undefined);
    assert.equal(remove("dispatcher", "viewer", 1), ErrorCode.PERMISSION_DENIED);
  });
});
