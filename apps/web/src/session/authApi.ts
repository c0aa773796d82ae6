import type { UserProfile } from "@sluice/identity";

// Identity speaks REST (see docs/architecture.md): these calls set and clear the HttpOnly
// `sluice_access` cookie the WebSocket upgrade is authenticated with.

export class AuthError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function request<T>(path: string, init: RequestInit): Promise<T> {
  const response = await fetch(path, {
    credentials: "same-origin",
    headers: { "content-type": "application/json" },
    ...init,
  });
  if (response.status === 204) return undefined as T;
  const body = (await response.json().catch(() => ({}))) as { code?: string; message?: string };
  if (!response.ok) throw new AuthError(body.code ?? "UNAVAILABLE", body.message ?? `HTTP ${response.status}`);
  return body as T;
}

export function signIn(email: string, password: string): Promise<{ user: UserProfile; expiresAt: number }> {
  return request("/auth/signin", { method: "POST", body: JSON.stringify({ email, password }) });
}

/** The session the cookie holds, or null when there is none. */
export async function currentSession(): Promise<UserProfile | null> {
  try {
    return (await request<{ user: UserProfile }>("/auth/me", { method: "GET", headers: {} })).user;
  } catch (error) {
    if (error instanceof AuthError && error.code === "UNAUTHENTICATED") return null;
    throw error;
  }
}

export function signOut(): Promise<void> {
  return request("/auth/signout", { method: "POST", headers: {} });
}
