// The accounts an auth bench signs in as, made through the server's own REST paths.
import { request } from "node:http";

export interface BenchUser {
  readonly email: string;
  readonly password: string;
}

/** The demo users every embedded server seeds (packages/identity/src/demo.ts). */
const demoUsers: readonly BenchUser[] = ["ana@acme.test", "ben@acme.test", "vera@acme.test", "gina@globex.test"].map(
  (email) => ({ email, password: "dispatch" }),
);

/**
 * Loopback addresses the bench connects from, 127.0.0.2 onwards: Linux routes all of 127/8 to
 * `lo`, so the server sees many client addresses, as it would in production, and a per-address
 * sign-in limit meant for one abuser is not what the bench measures.
 */
export function clientAddress(index: number): string {
  return `127.0.0.${2 + (index % 250)}`;
}

export interface JsonReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: unknown;
}

/** POST with a JSON body on a fresh connection from `localAddress`, as an SDK client (no cookies). */
export function postJson(url: string, body: unknown, localAddress?: string): Promise<JsonReply> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        agent: false,
        localAddress,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(payload),
          "x-sluice-client": "sdk",
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON (e.g. a bare 404): kept as text
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

export interface BenchUsers {
  readonly users: readonly BenchUser[];
  /** "signup" when the server has POST /auth/signup, else "demo" (the four seeded users). */
  readonly source: "signup" | "demo";
}

/**
 * `count` users, each the owner of an organization of its own, through POST /auth/signup when the
 * server has it; otherwise the four demo users (the server has no other way to add one yet).
 */
export async function benchUsers(serverUrl: string, count: number): Promise<BenchUsers> {
  const run = Date.now().toString(36);
  const password = "bench password, long enough for any policy";
  const make = (index: number): BenchUser => ({ email: `bench-${run}-${index}@bench.test`, password });
  const probe = await postJson(
    `${serverUrl}/auth/signup`,
    { organizationName: `Bench ${run} 0`, displayName: "Bench 0", ...make(0) },
    clientAddress(0),
  );
  if (probe.status === 404) return { users: demoUsers, source: "demo" };
  if (probe.status !== 201) throw new Error(`sign-up answered ${probe.status}: ${JSON.stringify(probe.body)}`);
  const users: BenchUser[] = [make(0)];
  process.stdout.write(`signing up ${count} users `);
  // Two at a time: each sign-up hashes a password, and the server has two cores.
  for (let index = 1; index < count; index += 2) {
    const batch = [index, index + 1].filter((i) => i < count);
    await Promise.all(
      batch.map(async (i) => {
        const user = make(i);
        const reply = await postJson(
          `${serverUrl}/auth/signup`,
          { organizationName: `Bench ${run} ${i}`, displayName: `Bench ${i}`, ...user },
          clientAddress(i),
        );
        if (reply.status !== 201)
          throw new Error(`sign-up ${i} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
        users.push(user);
      }),
    );
    process.stdout.write(".");
  }
  process.stdout.write(" done\n");
  return { users, source: "signup" };
}
