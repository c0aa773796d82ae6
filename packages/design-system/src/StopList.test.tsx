import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { renderToStaticMarkup } from "react-dom/server";
import { StopList, moveItem } from "./StopList";

describe("moveItem", () => {
  test("moves an item down and up without touching the input", () => {
    const stops = ["a", "b", "c", "d"];
    assert.deepEqual(moveItem(stops, 0, 2), ["b", "c", "a", "d"]);
    assert.deepEqual(moveItem(stops, 3, 1), ["a", "d", "b", "c"]);
    assert.deepEqual(stops, ["a", "b", "c", "d"]);
  });

  test("leaves the order alone for positions outside the list", () => {
    assert.deepEqual(moveItem(["a", "b"], 0, 5), ["a", "b"]);
    assert.deepEqual(moveItem(["a", "b"], -1, 0), ["a", "b"]);
  });
});

describe("StopList", () => {
  const stops = [
    { id: "1", title: "Acme", weightKg: 120 },
    { id: "2", title: "Globex", weightKg: 80 },
  ];

  test("names every stop by position and gives each an accessible move button, the ends disabled", () => {
    const html = renderToStaticMarkup(
      <StopList label="Stops of North" stops={stops} onMove={() => {}} onRemove={() => {}} />,
    );
    assert.match(html, /<ol[^>]*aria-label="Stops of North"/);
    assert.match(html, /aria-label="Stop 1: Acme"/);
    assert.match(html, /aria-label="Stop 2: Globex"/);
    assert.match(buttonTag(html, "Move Acme up"), /disabled=""/);
    assert.doesNotMatch(buttonTag(html, "Move Acme down"), /disabled/);
    assert.doesNotMatch(buttonTag(html, "Move Globex up"), /disabled/);
    assert.match(buttonTag(html, "Move Globex down"), /disabled=""/);
    assert.match(html, /aria-label="Take Globex off the route"/);
  });

  test("offers no reordering when locked", () => {
    const html = renderToStaticMarkup(<StopList label="Stops" stops={stops} onMove={() => {}} disabled />);
    assert.doesNotMatch(html, /Move Acme/);
    assert.doesNotMatch(html, /draggable="true"/);
  });
});

/** The opening tag of the button with this accessible name. */
function buttonTag(html: string, label: string): string {
  const tag = html.match(/<button[^>]*>/g)?.find((candidate) => candidate.includes(`aria-label="${label}"`));
  assert.ok(tag, `a button named "${label}"`);
  return tag;
}
