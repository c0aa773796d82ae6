import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { renderToStaticMarkup } from "react-dom/server";
import { avatarColor, initials } from "./Avatar";
import { ConfirmDialog } from "./ConfirmDialog";
import { NavTabs } from "./NavTabs";
import { Notice } from "./Notice";
import { ConnectionStatus } from "./ConnectionStatus";
import { fromDateTimeLocal, toDateTimeLocal } from "./DateTimeField";
import { LoadBar, loadTone } from "./LoadBar";
import { parseNumber } from "./NumberField";
import { PresenceStack } from "./PresenceStack";
import { SegmentedControl } from "./SegmentedControl";
import { StatusPill } from "./StatusPill";
import { TextField } from "./TextField";

describe("fields", () => {
  test("a text field's label names its input and an error is tied to it", () => {
    const html = renderToStaticMarkup(
      <TextField label="Consignee" value="" onValueChange={() => {}} error="Required" required />,
    );
    const id = /<label for="([^"]+)"/.exec(html)?.[1];
    assert.ok(id, "label points at the input");
    assert.match(html, new RegExp(`<input[^>]*id="${id}"[^>]*aria-invalid="true"`));
    assert.match(html, new RegExp(`aria-describedby="${id}-message"`));
    assert.match(html, new RegExp(`<span id="${id}-message"[^>]*role="alert">Required</span>`));
  });

  test("date-time values round-trip between RFC 3339 and local wall time", () => {
    const instant = "2026-03-01T08:30:00.000Z";
    assert.equal(fromDateTimeLocal(toDateTimeLocal(instant)), instant);
    assert.equal(toDateTimeLocal(""), "");
    assert.equal(fromDateTimeLocal("not a date"), "");
  });

  test("numbers parse only when finite", () => {
    assert.equal(parseNumber("12.5"), 12.5);
    assert.equal(parseNumber(" "), undefined);
    assert.equal(parseNumber("abc"), undefined);
  });
});

describe("load", () => {
  test("tone turns amber above 85 % and red above capacity", () => {
    assert.equal(loadTone(500, 1000), "ok");
    assert.equal(loadTone(900, 1000), "warning");
    assert.equal(loadTone(1000.5, 1000), "over");
    assert.equal(loadTone(1, 0), "over");
  });

  test("the bar is a meter with its figures in words", () => {
    const html = renderToStaticMarkup(<LoadBar loadKg={1200} capacityKg={1000} />);
    assert.match(html, /role="meter"/);
    assert.match(html, /aria-valuenow="1200"/);
    assert.match(html, /120%/);
    assert.match(html, /sl-load--over/);
  });
});

describe("people and status", () => {
  test("initials and colours are stable", () => {
    assert.equal(initials("Ana Alvarez"), "AA");
    assert.equal(initials("ben"), "B");
    assert.equal(avatarColor("u1"), avatarColor("u1"));
  });

  test("presence lists each person by name and folds the rest", () => {
    const people = [1, 2, 3].map((n) => ({ id: `u${n}`, name: `Person ${n}` }));
    const html = renderToStaticMarkup(<PresenceStack people={people} max={2} />);
    assert.match(html, /<li aria-label="Person 1">/);
    assert.match(html, /<li aria-label="Person 2">/);
    assert.doesNotMatch(html, /Person 3/);
    assert.match(html, /aria-label="1 more"/);
  });

  test("connection status is a live region carrying its state", () => {
    const html = renderToStaticMarkup(<ConnectionStatus state="reconnecting" />);
    assert.match(html, /role="status"/);
    assert.match(html, /data-state="reconnecting"/);
    assert.match(html, /Reconnecting/);
  });

  test("status pills name the contract's statuses", () => {
    assert.match(renderToStaticMarkup(<StatusPill kind="order" status="ORDER_STATUS_PLANNED" />), /Planned/);
    assert.match(renderToStaticMarkup(<StatusPill kind="route" status={undefined} />), /Unknown/);
  });
});

describe("choices", () => {
  test("a segmented control is a named radio group with one checked, tabbable option", () => {
    const html = renderToStaticMarkup(
      <SegmentedControl
        label="Filter by status"
        value="open"
        onChange={() => {}}
        segments={[
          { value: "all", label: "All", count: 3 },
          { value: "open", label: "Open", count: 1 },
        ]}
      />,
    );
    assert.match(html, /role="radiogroup" aria-label="Filter by status"/);
    const radios = html.match(/<button[^>]*role="radio"[^>]*>/g) ?? [];
    assert.equal(radios.length, 2);
    assert.match(radios[0] ?? "", /aria-checked="false"/);
    assert.match(radios[0] ?? "", /tabindex="-1"/);
    assert.match(radios[1] ?? "", /aria-checked="true"/);
    assert.match(radios[1] ?? "", /tabindex="0"/);
  });
});

describe("dialogs and navigation", () => {
  test("a confirm dialog names its action, starts on Cancel and shows why the action failed", () => {
    const html = renderToStaticMarkup(
      <ConfirmDialog
        open
        title="Remove Ben Brandt?"
        confirmLabel="Remove member"
        tone="danger"
        error={{
          title: "You may not do this",
          message: "Only owners and admins remove members.",
          code: "PERMISSION_DENIED",
        }}
        onConfirm={() => {}}
        onCancel={() => {}}
      >
        Ben loses access at once.
      </ConfirmDialog>,
    );
    assert.match(html, /<h2 id="[^"]+" class="sl-dialog__title">Remove Ben Brandt\?<\/h2>/);
    assert.match(html, /<button data-autofocus="true" type="button"[^>]*>Cancel<\/button>/);
    assert.match(html, /class="sl-button sl-button--danger"[^>]*>Remove member<\/button>/);
    assert.match(html, /role="alert"[\s\S]*PERMISSION_DENIED/);
  });

  test("a busy confirm dialog cannot be cancelled or confirmed twice", () => {
    const html = renderToStaticMarkup(
      <ConfirmDialog open busy title="Sign out?" confirmLabel="Sign out" onConfirm={() => {}} onCancel={() => {}}>
        The device must sign in again.
      </ConfirmDialog>,
    );
    assert.match(html, /<button data-autofocus="true" type="button" disabled=""[^>]*>Cancel<\/button>/);
    assert.match(html, /disabled="" aria-busy="true"[^>]*>Sign out<\/button>/);
  });

  test("a notice is a polite status with its title and message", () => {
    const html = renderToStaticMarkup(<Notice title="Password changed" message="Other devices were signed out." />);
    assert.match(html, /class="sl-banner sl-banner--success" role="status"/);
    assert.match(html, /Password changed[\s\S]*Other devices were signed out\./);
  });

  test("nav tabs are a named navigation with the current page marked", () => {
    const html = renderToStaticMarkup(
      <NavTabs
        label="Settings modules"
        current="sessions"
        tabs={[
          { id: "members", label: "Members", href: "/settings/members" },
          { id: "sessions", label: "Sessions", href: "/settings/sessions" },
        ]}
      />,
    );
    assert.match(html, /<nav aria-label="Settings modules"/);
    assert.match(html, /<a href="\/settings\/members" class="sl-tabs__tab">Members<\/a>/);
    assert.match(html, /<a href="\/settings\/sessions" class="sl-tabs__tab" aria-current="page">Sessions<\/a>/);
  });
});
