import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { IdentityConfigError } from "./config-error";
import { lowHashCost, PasswordHasher } from "./password-hasher";

describe("password hasher", () => {
  const hasher = new PasswordHasher(lowHashCost);

  test("hashes with argon2id and the given cost, salted", async () => {
    const first = await hasher.hash("dispatch");
    assert.match(first, /^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
    assert.notEqual(await hasher.hash("dispatch"), first);
    assert.equal(await hasher.verify(first, "dispatch"), true);
    assert.equal(await hasher.verify(first, "Dispatch"), false);
  });

  test("composed and decomposed forms of a password match", async () => {
    const stored = await hasher.hash("Grüße"); // ü as one code point
    assert.equal(await hasher.verify(stored, "Gru\u0308ße"), true); // u + combining diaeresis
  });

  test("a stored hash that cannot be parsed verifies as false", async () => {
    assert.equal(await hasher.verify("not a hash", "dispatch"), false);
    assert.equal(await hasher.verifyAgainstDummy("dispatch"), false);
  });

  test("costs argon2 cannot use are refused up front", () => {
    assert.throws(() => new PasswordHasher({ memoryCost: 4, timeCost: 1, parallelism: 1 }), IdentityConfigError);
    assert.throws(() => new PasswordHasher({ memoryCost: 1024, timeCost: 0, parallelism: 1 }), IdentityConfigError);
    assert.throws(() => new PasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1.5 }), IdentityConfigError);
  });
});
