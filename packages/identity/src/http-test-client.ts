// Tests only: identity's plugin in a real Fastify app on a real database, and clients that hold
// tokens the two ways the contract allows (browser cookies, SDK bodies).
import Fastify, {
  type FastifyInstance,
  type FastifyServerOptions,
  type InjectOptions,
  type LightMyRequestResponse,
} from "fastify";
import type { Database } from "@sluice/database";
import { createIdentity, type IdentityOptions, type IdentityService } from "./identity";
import { lowHashCost } from "./password-hasher";

/** A clock tests move by hand. */
export class TestClock {
  #at = Date.now();
  readonly now = () => this.#at;
  advance(ms: number): void {
    this.#at += ms;
  }
}

export interface TestApp {
  readonly app: FastifyInstance;
  readonly identity: IdentityService;
  readonly clock: TestClock;
  close(): Promise<void>;
}

export async function testApp(
  db: Database,
  options: Partial<IdentityOptions> = {},
  fastifyOptions: FastifyServerOptions = {},
): Promise<TestApp> {
  const clock = new TestClock();
  const identity = await createIdentity({ db, hashCost: lowHashCost, now: clock.now, ...options });
  await identity.seedDemo();
  const app = Fastify(fastifyOptions);
  await app.register(identity.plugin);
  await app.ready();
  return {
    app,
    identity,
    clock,
    close: async () => {
      identity.close();
      await app.close();
    },
  };
}

type Method = "GET" | "POST" | "PATCH" | "DELETE";

/** A browser: keeps the cookies it is given and echoes the CSRF cookie like the SPA does. */
export class BrowserClient {
  readonly cookies = new Map<string, string>();
  echoCsrf = true;
  readonly #app: FastifyInstance;

  constructor(app: FastifyInstance) {
    this.#app = app;
  }

  async request(method: Method, url: string, payload?: object, headers: Record<string, string> = {}) {
    const csrf = this.cookies.get("sluice_csrf");
    const options: InjectOptions = {
      method,
      url,
      cookies: Object.fromEntries(this.cookies),
      headers: {
        "user-agent": "TestBrowser/1.0",
        ...(this.echoCsrf && csrf ? { "x-sluice-csrf": csrf } : {}),
        ...headers,
      },
    };
    if (payload !== undefined) options.payload = payload;
    const response = await this.#app.inject(options);
    for (const cookie of response.cookies) {
      if (cookie.value === "" || cookie.maxAge === 0) this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    return response;
  }

  signIn(email: string, password = "dispatch", extra: object = {}) {
    return this.request("POST", "/auth/signin", { email, password, ...extra });
  }
}

/** An SDK client: bearer token in a header, refresh token in bodies, no cookies. */
export class SdkClient {
  accessToken = "";
  refreshToken = "";
  readonly #app: FastifyInstance;

  constructor(app: FastifyInstance) {
    this.#app = app;
  }

  async request(method: Method, url: string, payload?: object, headers: Record<string, string> = {}) {
    const options: InjectOptions = {
      method,
      url,
      headers: {
        "x-sluice-client": "sdk",
        "user-agent": "TestSdk/1.0",
        ...(this.accessToken ? { authorization: `Bearer ${this.accessToken}` } : {}),
        ...headers,
      },
    };
    if (payload !== undefined) options.payload = payload;
    const response = await this.#app.inject(options);
    this.#remember(response);
    return response;
  }

  signIn(email: string, password = "dispatch", extra: object = {}) {
    return this.request("POST", "/auth/signin", { email, password, ...extra });
  }

  refresh(refreshToken = this.refreshToken) {
    return this.request("POST", "/auth/refresh", { refreshToken });
  }

  #remember(response: LightMyRequestResponse): void {
    if (response.statusCode !== 200 && response.statusCode !== 201) return;
    const body = response.json<{ accessToken?: string; refreshToken?: string }>();
    if (body.accessToken) this.accessToken = body.accessToken;
    if (body.refreshToken) this.refreshToken = body.refreshToken;
  }
}

export function errorOf(response: LightMyRequestResponse): { status: number; code: string; message: string } {
  const body = response.json<{ code: string; message: string }>();
  return { status: response.statusCode, code: body.code, message: body.message };
}
