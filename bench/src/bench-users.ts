// The accounts an auth bench signs in as, made through the server's own REST paths.
import { request } from "node:http";

export interface BenchUser {
  readonly email: string;
  readonly password: string;
  /** The access token the sign-up answered with: a session of its own. */
  readonly accessToken: string;
}

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

/**
 * `count` users through POST /auth/signup, each the owner of an organization of its own, so each
 * stays far below the per-email sign-in limit; two at a time, as each sign-up hashes a password
 * and the server has two cores.
 */
export async function benchUsers(serverUrl: string, count: number): Promise<BenchUser[]> {
  const run = Date.now().toString(36);
  const password = "bench password, long enough for any policy";
  const users: BenchUser[] = [];
  const signUp = async (index: number) => {
    const email = `bench-${run}-${index}@bench.test`;
    const reply = await postJson(
      `${serverUrl}/auth/signup`,
      { organizationName: `Bench ${run} ${index}`, displayName: `Bench ${index}`, email, password },
      clientAddress(index),
    );
    if (reply.status !== 201) throw new Error(`sign-up answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    users.push({ email, password, accessToken: (reply.body as { accessToken: string }).accessToken });
  };
  for (let index = 0; index < count; index += 2) {
    await Promise.all([index, index + 1].filter((i) => i < count).map(signUp));
    process.stdout.write(`\r  signed up ${users.length}/${count} users`);
  }
  process.stdout.write("\n");
  return users;
}
