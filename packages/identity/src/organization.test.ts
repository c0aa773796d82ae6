import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Database } from "@sluice/database";
import { testBackends } from "@sluice/database/testing";
import { errorOf, SdkClient, testApp, type TestApp } from "./http-test-client";
import type { Revocation } from "./revocations";

interface MemberJson {
  userId: string;
  email: string;
  displayName: string;
  role: string;
  joinedAt: number;
}

// Sign-up, members and invitations over HTTP, with the role rules of the contract.
for (const backend of await testBackends()) {
  describe(`organization on ${backend.name}`, { skip: backend.skip }, () => {
    let db: Database;
    let t: TestApp;
    const revocations: Revocation[] = [];
    const links: string[] = [];

    before(async () => {
      db = await backend.open();
      t = await testApp(
        db,
        {},
        {
          logger: {
            level: "info",
            stream: {
              write: (line: string) => {
                const msg = (JSON.parse(line) as { msg?: string }).msg ?? "";
                if (msg.startsWith("invitation link: ")) links.push(msg.slice("invitation link: ".length));
              },
            },
          },
        },
      );
      t.identity.onRevoked((revocation) => revocations.push(revocation));
    });
    after(async () => {
      await t?.close();
      await db?.close();
    });

    async function as(email: string, password = "dispatch") {
      const client = new SdkClient(t.app);
      const response = await client.signIn(email, password);
      assert.equal(response.statusCode, 200, `${email} signs in`);
      return client;
    }

    async function members(client: SdkClient): Promise<MemberJson[]> {
      const response = await client.request("GET", "/auth/members");
      assert.equal(response.statusCode, 200);
      return response.json<{ members: MemberJson[] }>().members;
    }

    async function idOf(client: SdkClient, email: string): Promise<string> {
      const member = (await members(client)).find((m) => m.email === email);
      assert.ok(member, `${email} is a member`);
      return member.userId;
    }

    async function invite(client: SdkClient, email: string, role: string): Promise<string> {
      const response = await client.request("POST", "/auth/invitations", { email, role });
      assert.equal(response.statusCode, 201, response.body);
      const link = links.at(-1);
      assert.ok(link);
      return new URL(link).hash.replace("#token=", "");
    }

    test("sign-up makes an organization with its owner, signed in", async () => {
      const sdk = new SdkClient(t.app);
      const response = await sdk.request("POST", "/auth/signup", {
        organizationName: "Initech Haulage",
        displayName: "Ida Owner",
        email: "Ida@Initech.test",
        password: "correct horse",
      });
      assert.equal(response.statusCode, 201);
      const { user } = response.json<{ user: Record<string, string> }>();
      assert.equal(user.role, "owner");
      assert.equal(user.email, "ida@initech.test");
      assert.equal(user.organizationName, "Initech Haulage");
      assert.deepEqual(
        (await members(sdk)).map((m) => [m.email, m.role]),
        [["ida@initech.test", "owner"]],
      );
      const again = await new SdkClient(t.app).request("POST", "/auth/signup", {
        organizationName: "Other",
        displayName: "Ida",
        email: "ida@initech.test",
        password: "another one",
      });
      assert.equal(errorOf(again).code, "ALREADY_EXISTS");
      const weak = await new SdkClient(t.app).request("POST", "/auth/signup", {
        organizationName: "Other",
        displayName: "Ida",
        email: "not-an-email",
        password: "short",
      });
      assert.equal(errorOf(weak).code, "INVALID_ARGUMENT");
    });

    test("any member lists members; only owners and admins see invitations", async () => {
      const vera = await as("vera@acme.test");
      const list = await members(vera);
      assert.deepEqual(list.map((m) => [m.email, m.role]).sort(), [
        ["ana@acme.test", "owner"],
        ["ben@acme.test", "dispatcher"],
        ["vera@acme.test", "viewer"],
      ]);
      assert.ok(list.every((m) => typeof m.joinedAt === "number" && m.displayName.length > 0));
      assert.equal(errorOf(await vera.request("GET", "/auth/invitations")).code, "PERMISSION_DENIED");
    });

    test("a viewer or dispatcher cannot invite; an admin cannot invite an owner", async () => {
      const vera = await as("vera@acme.test");
      const ben = await as("ben@acme.test");
      for (const client of [vera, ben]) {
        const response = await client.request("POST", "/auth/invitations", { email: "x@acme.test", role: "viewer" });
        assert.equal(errorOf(response).code, "PERMISSION_DENIED");
      }
      const ana = await as("ana@acme.test");
      const benId = await idOf(ana, "ben@acme.test");
      assert.equal((await ana.request("PATCH", `/auth/members/${benId}`, { role: "admin" })).statusCode, 200);
      const benAdmin = await as("ben@acme.test");
      const owner = await benAdmin.request("POST", "/auth/invitations", { email: "x@acme.test", role: "owner" });
      assert.equal(errorOf(owner).code, "PERMISSION_DENIED");
      await ana.request("PATCH", `/auth/members/${benId}`, { role: "dispatcher" });
    });

    test("an invitation accepted by a new person makes a member with the invited role, signed in", async () => {
      const ana = await as("ana@acme.test");
      const token = await invite(ana, "Nina@Acme.test", "dispatcher");
      const pending = (await ana.request("GET", "/auth/invitations")).json<{
        invitations: { id: string; email: string; role: string; invitedBy: string; expiresAt: number }[];
      }>().invitations;
      const invitation = pending.find((i) => i.email === "nina@acme.test");
      assert.ok(invitation);
      assert.equal(invitation.role, "dispatcher");
      assert.equal(invitation.invitedBy, "Ana Alvarez");
      assert.ok(invitation.expiresAt > t.clock.now());

      const nina = new SdkClient(t.app);
      const nameless = await nina.request("POST", "/auth/invitations/accept", { token, password: "nina's secret" });
      assert.equal(errorOf(nameless).code, "INVALID_ARGUMENT");
      const weak = await nina.request("POST", "/auth/invitations/accept", {
        token,
        displayName: "Nina",
        password: "short",
      });
      assert.equal(errorOf(weak).code, "INVALID_ARGUMENT");
      const accepted = await nina.request("POST", "/auth/invitations/accept", {
        token,
        displayName: "Nina Nowak",
        password: "nina's secret",
      });
      assert.equal(accepted.statusCode, 200);
      const { user } = accepted.json<{ user: Record<string, string> }>();
      assert.equal(user.role, "dispatcher");
      assert.equal(user.organizationName, "Acme Logistics");
      assert.equal((await nina.request("GET", "/auth/me")).statusCode, 200);

      const twice = await new SdkClient(t.app).request("POST", "/auth/invitations/accept", {
        token,
        displayName: "Someone",
        password: "whatever12",
      });
      assert.equal(errorOf(twice).code, "NOT_FOUND");
      const listed = (await ana.request("GET", "/auth/invitations")).json<{ invitations: { email: string }[] }>();
      assert.ok(!listed.invitations.some((i) => i.email === "nina@acme.test"));
    });

    test("an existing account joins a second organization with its own password and picks it at sign-in", async () => {
      const gina = await as("gina@globex.test");
      const token = await invite(gina, "vera@acme.test", "admin");
      const wrong = await new SdkClient(t.app).request("POST", "/auth/invitations/accept", {
        token,
        password: "not veras",
      });
      assert.equal(errorOf(wrong).code, "UNAUTHENTICATED");
      const accepted = await new SdkClient(t.app).request("POST", "/auth/invitations/accept", {
        token,
        password: "dispatch",
      });
      assert.equal(accepted.statusCode, 200);
      const globex = accepted.json<{ user: { organizationId: string; role: string } }>().user;
      assert.equal(globex.role, "admin");

      const first = (await as("vera@acme.test")).request("GET", "/auth/me");
      assert.equal(
        (await first).json<{ user: { organizationName: string } }>().user.organizationName,
        "Acme Logistics",
      );
      const picked = new SdkClient(t.app);
      const response = await picked.signIn("vera@acme.test", "dispatch", { organizationId: globex.organizationId });
      assert.equal(response.json<{ user: { role: string; organizationName: string } }>().user.role, "admin");
      const elsewhere = await new SdkClient(t.app).signIn("ben@acme.test", "dispatch", {
        organizationId: globex.organizationId,
      });
      assert.equal(errorOf(elsewhere).code, "PERMISSION_DENIED");
    });

    test("a revoked or expired invitation cannot be accepted; revoking another organization's is NOT_FOUND", async () => {
      const ana = await as("ana@acme.test");
      const gina = await as("gina@globex.test");
      const token = await invite(ana, "olga@acme.test", "viewer");
      const id = (await ana.request("GET", "/auth/invitations"))
        .json<{ invitations: { id: string; email: string }[] }>()
        .invitations.find((i) => i.email === "olga@acme.test")!.id;
      assert.equal(errorOf(await gina.request("DELETE", `/auth/invitations/${id}`)).code, "NOT_FOUND");
      assert.equal((await ana.request("DELETE", `/auth/invitations/${id}`)).statusCode, 204);
      const accept = { token, displayName: "Olga", password: "olga's secret" };
      assert.equal(
        errorOf(await new SdkClient(t.app).request("POST", "/auth/invitations/accept", accept)).code,
        "NOT_FOUND",
      );

      const later = await invite(ana, "olga@acme.test", "viewer");
      t.clock.advance(8 * 24 * 3600 * 1000);
      const expired = await new SdkClient(t.app).request("POST", "/auth/invitations/accept", {
        ...accept,
        token: later,
      });
      assert.equal(errorOf(expired).code, "NOT_FOUND");
    });

    test("role rules: nobody changes their own role, an admin cannot make or unmake an owner, the last owner stays", async () => {
      const ana = await as("ana@acme.test");
      const anaId = await idOf(ana, "ana@acme.test");
      const benId = await idOf(ana, "ben@acme.test");
      const veraId = await idOf(ana, "vera@acme.test");

      assert.equal(
        errorOf(await ana.request("PATCH", `/auth/members/${anaId}`, { role: "admin" })).code,
        "PERMISSION_DENIED",
      );
      assert.equal(errorOf(await ana.request("DELETE", `/auth/members/${anaId}`)).code, "FAILED_PRECONDITION");

      assert.equal((await ana.request("PATCH", `/auth/members/${benId}`, { role: "admin" })).statusCode, 200);
      const ben = await as("ben@acme.test");
      const promote = await ben.request("PATCH", `/auth/members/${veraId}`, { role: "owner" });
      assert.equal(errorOf(promote).code, "PERMISSION_DENIED");
      const demoteOwner = await ben.request("PATCH", `/auth/members/${anaId}`, { role: "viewer" });
      assert.equal(errorOf(demoteOwner).code, "PERMISSION_DENIED");
      assert.equal(errorOf(await ben.request("DELETE", `/auth/members/${anaId}`)).code, "PERMISSION_DENIED");

      const vera = await as("vera@acme.test");
      revocations.length = 0;
      const changed = await ben.request("PATCH", `/auth/members/${veraId}`, { role: "dispatcher" });
      assert.equal(changed.statusCode, 200);
      assert.equal(changed.json<MemberJson>().role, "dispatcher");
      const acme = (await vera.request("GET", "/auth/me")).json<{ user: { organizationId: string; role: string } }>();
      assert.equal(acme.user.role, "dispatcher", "the role applies to the next check");
      assert.deepEqual(revocations, [{ kind: "member", userId: veraId, organizationId: acme.user.organizationId }]);

      const viewer = await vera.request("PATCH", `/auth/members/${benId}`, { role: "viewer" });
      assert.equal(errorOf(viewer).code, "PERMISSION_DENIED");
      const bogus = await ana.request("PATCH", `/auth/members/${benId}`, { role: "superuser" });
      assert.equal(errorOf(bogus).code, "INVALID_ARGUMENT");

      await ana.request("PATCH", `/auth/members/${veraId}`, { role: "viewer" });
      await ana.request("PATCH", `/auth/members/${benId}`, { role: "dispatcher" });
    });

    test("another organization's member ids are NOT_FOUND, the same as ids that exist nowhere", async () => {
      const gina = await as("gina@globex.test");
      const ana = await as("ana@acme.test");
      const benId = await idOf(ana, "ben@acme.test");
      const foreign = await gina.request("PATCH", `/auth/members/${benId}`, { role: "viewer" });
      const nowhere = await gina.request("PATCH", `/auth/members/00000000-0000-4000-8000-000000000000`, {
        role: "viewer",
      });
      assert.deepEqual(errorOf(foreign), errorOf(nowhere));
      assert.equal(errorOf(foreign).code, "NOT_FOUND");
      assert.deepEqual(errorOf(await gina.request("DELETE", `/auth/members/${benId}`)), errorOf(nowhere));
      assert.ok(!(await members(gina)).some((m) => m.email === "ben@acme.test"));
      assert.equal((await ana.request("GET", "/auth/me")).json<{ user: { role: string } }>().user.role, "owner");
    });

    test("a removed member's sessions end at once, and listeners hear of it", async () => {
      const ana = await as("ana@acme.test");
      const token = await invite(ana, "pete@acme.test", "viewer");
      const pete = new SdkClient(t.app);
      await pete.request("POST", "/auth/invitations/accept", { token, displayName: "Pete", password: "pete's secret" });
      const peteId = await idOf(ana, "pete@acme.test");
      revocations.length = 0;
      assert.equal((await ana.request("DELETE", `/auth/members/${peteId}`)).statusCode, 204);
      assert.equal(revocations[0]?.kind, "member");
      assert.equal((await pete.request("GET", "/auth/me")).statusCode, 401);
      assert.equal(errorOf(await pete.refresh()).status, 401);
      const again = await new SdkClient(t.app).signIn("pete@acme.test", "pete's secret");
      assert.equal(errorOf(again).code, "PERMISSION_DENIED", "the account remains, in no organization");
    });
  });
}
