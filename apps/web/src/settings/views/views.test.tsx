import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { renderToStaticMarkup } from "react-dom/server";
import type { DeviceSession, Member } from "../api";
import { InvitationsView } from "./InvitationsView";
import { MembersView, type MembersViewProps } from "./MembersView";
import { SessionsView } from "./SessionsView";

const idle = { busy: false, error: undefined };
const resolved = async () => {};
const members: Member[] = [
  { userId: "o1", email: "ana@acme.test", displayName: "Ana Alvarez", role: "owner", joinedAt: 0 },
  { userId: "a1", email: "ada@acme.test", displayName: "Ada Admin", role: "admin", joinedAt: 0 },
  { userId: "v1", email: "vera@acme.test", displayName: "Vera Vogel", role: "viewer", joinedAt: 0 },
];

function renderMembers(actor: MembersViewProps["actor"]): string {
  return renderToStaticMarkup(
    <MembersView
      members={members}
      loadError={undefined}
      actor={actor}
      roleChange={idle}
      removal={idle}
      onChangeRole={resolved}
      onRemove={resolved}
      onDismissError={() => {}}
    />,
  );
}

/** The markup of one member's table row. */
function row(html: string, name: string): string {
  return new RegExp(`<tr data-testid="member-row" aria-label="${name}">[\\s\\S]*?</tr>`).exec(html)?.[0] ?? "";
}

describe("members", () => {
  test("a viewer reads the list: roles as text, nothing to change or remove", () => {
    const html = renderMembers({ userId: "v1", role: "viewer" });
    assert.doesNotMatch(html, /Change the role|Remove/);
    assert.match(row(html, "Ana Alvarez"), />Owner</);
    assert.match(row(html, "Vera Vogel"), /\(you\)/);
  });

  test("an owner changes and removes others, not themselves", () => {
    const html = renderMembers({ userId: "o1", role: "owner" });
    assert.doesNotMatch(row(html, "Ana Alvarez"), /Change the role|Remove/);
    assert.match(row(html, "Ada Admin"), /aria-label="Change the role of Ada Admin"/);
    assert.match(row(html, "Vera Vogel"), /aria-label="Remove Vera Vogel"/);
  });

  test("an admin leaves the owner alone", () => {
    const html = renderMembers({ userId: "a1", role: "admin" });
    assert.doesNotMatch(row(html, "Ana Alvarez"), /Change the role|Remove/);
    assert.match(row(html, "Vera Vogel"), /aria-label="Change the role of Vera Vogel"/);
  });

  test("a list that failed to load says why, in the server's words", () => {
    const html = renderToStaticMarkup(
      <MembersView
        members={undefined}
        loadError={{ code: "PERMISSION_DENIED", message: "Only members of the organization see it." }}
        actor={{ userId: "v1", role: "viewer" }}
        roleChange={idle}
        removal={idle}
        onChangeRole={resolved}
        onRemove={resolved}
        onDismissError={() => {}}
      />,
    );
    assert.match(
      html,
      /role="alert"[\s\S]*You may not do this[\s\S]*Only members of the organization see it\.[\s\S]*PERMISSION_DENIED/,
    );
  });
});

describe("invitations", () => {
  test("the form offers the roles given, viewer first chosen; each pending invitation can be revoked", () => {
    const html = renderToStaticMarkup(
      <InvitationsView
        invitations={[{ id: "i1", email: "new@acme.test", role: "viewer", invitedBy: "Ana Alvarez", expiresAt: 0 }]}
        loadError={undefined}
        roles={["admin", "dispatcher", "viewer"]}
        inviting={idle}
        revoking={idle}
        onInvite={resolved}
        onRevoke={resolved}
        onDismissError={() => {}}
      />,
    );
    assert.match(html, /<form class="sl-form" aria-label="Invite someone"/);
    assert.doesNotMatch(html, /<option value="owner"/);
    assert.match(html, /<option value="viewer" selected="">Viewer<\/option>/);
    assert.match(html, /aria-label="Revoke the invitation of new@acme\.test"/);
    assert.match(html, /Ana Alvarez/);
  });
});

describe("sessions", () => {
  test("this device is marked and has no sign-out of its own; other devices do", () => {
    const chrome =
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    const sessions: DeviceSession[] = [
      { id: "s1", createdAt: 0, lastUsedAt: 0, userAgent: chrome, current: true },
      { id: "s2", createdAt: 0, lastUsedAt: 0, userAgent: null, current: false },
    ];
    const html = renderToStaticMarkup(
      <SessionsView
        sessions={sessions}
        loadError={undefined}
        signingOut={idle}
        onSignOut={resolved}
        onSignOutEverywhere={resolved}
        onDismissError={() => {}}
      />,
    );
    const rows = html.match(/<tr data-testid="session-row"[\s\S]*?<\/tr>/g) ?? [];
    assert.equal(rows.length, 2);
    assert.match(rows[0] ?? "", /data-current="true"[\s\S]*Chrome on Linux[\s\S]*This device/);
    assert.doesNotMatch(rows[0] ?? "", /aria-label="Sign out/);
    assert.match(rows[1] ?? "", /Unknown device[\s\S]*aria-label="Sign out Unknown device/);
    assert.match(html, />Sign out everywhere<\/button>/);
  });
});
