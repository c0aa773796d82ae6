import type { UserProfile } from "@sluice/identity";

// Identity speaks REST (see docs/architecture.md and the contract in docs/identity.md). Every call
// goes through `request`: cookies ride along (`sluice_access`, and `sluice_refresh` on /auth), a
// mutating call carries the CSRF header, and an expired access token is refreshed once and the call
// retried. The access token itself is HttpOnly; the reply bodies give the app a copy for the socket.

/** A refusal from the server, in its `{code, message}` words. */
export class AuthError extends Error {
  constructor(
    /** UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, ... */
    readonly code: string,
    message: string,
    /** RESOURCE_EXHAUSTED: when to try again, from `Retry-After`. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** What sign-in, refresh and accepting an invitation answer (cookie mode: no refresh token in the body). */
export interface SignedInReply {
  accessToken: string;
  /** Unix milliseconds. */
  expiresAt: number;
  user: UserProfile;
}

export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";

/** The calls that establish a session: a 401 from them is the answer, not an expired token. */
const establishing = new Set(["/auth/signin", "/auth/signup", "/auth/refresh", "/auth/invitations/accept"]);

// The names are identity's (`csrfCookieName`, `csrfHeaderName` in @sluice/identity), repeated here
// because that package is server code the browser bundle must not pull in.
const csrfCookieName = "sluice_csrf";
const csrfHeaderName = "x-sluice-csrf";

/** The double-submit CSRF value: the readable `sluice_csrf` cookie, echoed in a header. */
function csrfToken(): string | undefined {
  if (typeof document === "undefined") return undefined;
  for (const pair of document.cookie.split(";")) {
    const [name, ...value] = pair.trim().split("=");
    if (name === csrfCookieName) return decodeURIComponent(value.join("="));
  }
  return undefined;
}

async function send(method: HttpMethod, path: string, body: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  const csrf = method === "GET" ? undefined : csrfToken();
  if (csrf) headers[csrfHeaderName] = csrf;
  return fetch(path, {
    method,
    credentials: "same-origin",
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function answer<T>(response: Response): Promise<T> {
  if (response.status === 204) return undefined as T;
  const body = (await response.json().catch(() => ({}))) as { code?: string; message?: string };
  if (response.ok) return body as T;
  const retryAfter = Number(response.headers.get("retry-after"));
  throw new AuthError(
    body.code ?? (response.status === 401 ? "UNAUTHENTICATED" : "UNAVAILABLE"),
    body.message ?? `The server answered ${response.status}.`,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  );
}

/**
 * One REST call to identity. Rejects with AuthError (the server's code and message), or with a
 * TypeError when the server cannot be reached.
 */
export async function request<T>(method: HttpMethod, path: string, body?: unknown): Promise<T> {
  const response = await send(method, path, body);
  if (response.status !== 401 || establishing.has(path)) return answer<T>(response);
  // The access token ran out (a laptop that slept): refresh once, then ask again.
  try {
    await refreshSession();
  } catch {
    return answer<T>(response);
  }
  return answer<T>(await send(method, path, body));
}

// ---- the session ----

/** The access token the last reply gave (undefined after a page load: the cookie holds it) and its expiry. */
let access: { token: string | undefined; expiresAt: number } | undefined;

function remember(reply: { accessToken?: string; expiresAt: number }): void {
  access = { token: reply.accessToken, expiresAt: reply.expiresAt };
}

export async function signIn(email: string, password: string): Promise<SignedInReply> {
  const reply = await request<SignedInReply>("POST", "/auth/signin", { email, password });
  remember(reply);
  return reply;
}

/** Accepts an invitation: creates the member (name and password chosen here) and signs them in. */
export async function acceptInvitation(
  token: string,
  displayName: string | undefined,
  password: string,
): Promise<SignedInReply> {
  const reply = await request<SignedInReply>("POST", "/auth/invitations/accept", { token, displayName, password });
  remember(reply);
  return reply;
}

/** The session the cookies hold (refreshed when only the refresh token is left), or null when there is none. */
export async function currentSession(): Promise<UserProfile | null> {
  try {
    const me = await request<{ expiresAt: number; user: UserProfile }>("GET", "/auth/me");
    if (!access || access.expiresAt !== me.expiresAt) access = { token: undefined, expiresAt: me.expiresAt };
    return me.user;
  } catch (error) {
    if (error instanceof AuthError && error.code === "UNAUTHENTICATED") return null;
    throw error;
  }
}

/** Signs this device out, or every device of the user ("all"). */
export async function signOut(scope: "device" | "all" = "device"): Promise<void> {
  await request("POST", "/auth/signout", { scope });
  access = undefined;
}

let refreshing: Promise<SignedInReply> | undefined;

/**
 * Trades the refresh cookie for a new access token (and a new refresh cookie). One at a time per
 * page, and one at a time across the browser's tabs (they share the cookie): the server treats a
 * refresh token used twice as stolen and ends the session, so two tabs must never race with it.
 */
export function refreshSession(): Promise<SignedInReply> {
  refreshing ??= oneAtATime(async () => {
    const reply = await request<SignedInReply>("POST", "/auth/refresh");
    remember(reply);
    return reply;
  }).finally(() => {
    refreshing = undefined;
  });
  return refreshing;
}

async function oneAtATime<T>(run: () => Promise<T>): Promise<T> {
  const locks = typeof navigator === "undefined" ? undefined : navigator.locks;
  return locks ? await locks.request("sluice-refresh", run) : run();
}

/**
 * Refresh this long before the access token expires. More than the client SDK's lead for in-band
 * re-authentication (a minute), so the SDK's request always finds the token due and gets a new one.
 */
const refreshLeadMs = 2 * 60_000;

/**
 * The client SDK's `token` function. The SDK asks before every connection (the browser's socket is
 * authenticated by the cookie, so a token still good is enough: no refresh) and shortly before the
 * session expires, to re-authenticate in band: then the token is refreshed, which renews the
 * cookie for REST too. A refresh the server refuses gives an empty token: the server then closes
 * the socket as UNAUTHENTICATED and the app asks to sign in again.
 */
export async function socketToken(): Promise<string> {
  if (access && access.expiresAt - Date.now() > refreshLeadMs) return access.token ?? "";
  try {
    return (await refreshSession()).accessToken;
  } catch (error) {
    if (error instanceof AuthError && error.code === "UNAUTHENTICATED") return "";
    throw error;
  }
}
