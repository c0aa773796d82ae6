import assert from "node:assert/strict";
import { test } from "node:test";
import { ConnectionsBy } from "./connections-by";

test("groups values by key, one value bare and more in a set, and forgets empty keys", () => {
  const index = new ConnectionsBy<string, { name: string }>();
  const [a, b, c] = [{ name: "a" }, { name: "b" }, { name: "c" }];
  index.add("s1", a);
  index.add("s1", a);
  assert.deepEqual(index.get("s1"), [a]);
  index.add("s1", b);
  index.add("s2", c);
  assert.deepEqual(index.get("s1"), [a, b]);
  assert.deepEqual([...index.keys()], ["s1", "s2"]);

  index.delete("s1", a);
  assert.deepEqual(index.get("s1"), [b]);
  index.delete("s1", c); // not in the group: nothing happens
  assert.deepEqual(index.get("s1"), [b]);
  index.delete("s1", b);
  index.delete("s2", c);
  assert.deepEqual(index.get("s1"), []);
  assert.equal(index.size, 0);
});

test("what get answers is a copy, safe to change the index while going through it", () => {
  const index = new ConnectionsBy<string, object>();
  const values = [{}, {}, {}];
  for (const value of values) index.add("k", value);
  for (const value of index.get("k")) index.delete("k", value);
  assert.equal(index.size, 0);
});
