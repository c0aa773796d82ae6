import { parseOrigin } from "./origin";
import fastifyCookie from "@fastify/cookie";
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { ErrorCode, RpcError } from "@sluice/rpc";
import { invalidArgument, restStatusOf, ThrottleUnavailable, TooManyAttempts, unauthenticated } from "./errors";
import type { ClientContext, IdentityService, SignedIn } from "./identity";
import { newOpaqueToken } from "./opaque-token";
import { minimumPasswordLength } from "./password-hasher";
import {
  accessCookieName,
  changesSomething,
  csrfCookieName,
  csrfExemptRoutes,
  csrfHeaderName,
  csrfRefusal,
  originRefusal,
  refreshCookieName,
} from "./request-guard";
import { roleNames, type RoleName } from "./roles";

export { accessCookieName };

/** What the plugin needs from identity; the plugin itself holds no state. */
export type IdentityCore = Omit<IdentityService, "plugin">;

/** The header an SDK (non-browser) client sends: tokens travel in bodies, no cookies. */
export const clientHeaderName = "x-sluice-client";

/** Sign-in takes whatever was typed (a wrong email is just a failed sign-in); new addresses must look like one. */
const typedEmail = { type: "string", minLength: 3, maxLength: 320 } as const;
const email = { ...typedEmail, pattern: "^\\s*[^\\s@]+@[^\\s@]+\\s*$" } as const;
const newPassword = { type: "string", minLength: minimumPasswordLength, maxLength: 1024 } as const;
const anyPassword = { type: "string", minLength: 1, maxLength: 1024 } as const;
const displayName = { type: "string", minLength: 1, maxLength: 200, pattern: "\\S" } as const;
const role = { type: "string", enum: roleNames } as const;
const id = { type: "string", minLength: 1, maxLength: 100 } as const;

const userSchema = {
  type: "object",
  required: ["id", "email", "displayName", "role", "organizationId", "organizationName"],
  properties: {
    id: { type: "string" },
    email: { type: "string" },
    displayName: { type: "string" },
    role: { type: "string" },
    organizationId: { type: "string" },
    organizationName: { type: "string" },
  },
} as const;

const signedInSchema = {
  type: "object",
  required: ["accessToken", "expiresAt", "user"],
  properties: {
    accessToken: { type: "string" },
    expiresAt: { type: "number" },
    refreshToken: { type: "string" },
    user: userSchema,
  },
} as const;

const memberSchema = {
  type: "object",
  required: ["userId", "email", "displayName", "role", "joinedAt"],
  properties: {
    userId: { type: "string" },
    email: { type: "string" },
    displayName: { type: "string" },
    role: { type: "string" },
    joinedAt: { type: "number" },
  },
} as const;

const invitationSchema = {
  type: "object",
  required: ["id", "email", "role", "invitedBy", "expiresAt"],
  properties: {
    id: { type: "string" },
    email: { type: "string" },
    role: { type: "string" },
    invitedBy: { type: "string" },
    expiresAt: { type: "number" },
  },
} as const;

const errorSchema = {
  type: "object",
  required: ["code", "message"],
  properties: { code: { type: "string" }, message: { type: "string" } },
} as const;

function body(required: readonly string[], properties: Record<string, unknown>) {
  return { type: "object", required, additionalProperties: false, properties } as const;
}

const idParams = (name: string) => body([name], { [name]: id });

/**
 * The /auth routes and /.well-known/jwks.json (docs/identity.md). Register it without a prefix:
 * the cookies and the SPA expect these paths. Errors inside it answer as JSON `{ code, message }`.
 */
export function createIdentityPlugin(identity: IdentityCore): FastifyPluginAsync {
  return async function identityPlugin(app) {
    // The server may have registered the cookie plugin already; a second registration would clash.
    if (!app.hasDecorator("parseCookie")) await app.register(fastifyCookie);

    app.setErrorHandler<FastifyError | RpcError>((error, request, reply) => {
      if (error instanceof RpcError) {
        const { status, code } = restStatusOf(error.code);
        if (error instanceof TooManyAttempts || error instanceof ThrottleUnavailable) {
          reply.header("retry-after", String(error.retryAfterSeconds));
        }
        if (status < 500 || error instanceof ThrottleUnavailable) {
          if (error instanceof ThrottleUnavailable)
            request.log.warn({ err: error.cause }, "sign-in counters unavailable");
          return reply.code(status).send({ code, message: error.message });
        }
      } else if (error.validation) {
        return reply.code(400).send({ code: "INVALID_ARGUMENT", message: error.message });
      } else if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
        // Malformed JSON, a wrong content type, a body too large: the caller's mistake, said plainly.
        return reply.code(error.statusCode).send({ code: "INVALID_ARGUMENT", message: error.message });
      }
      request.log.error({ err: error }, "identity request failed");
      return reply.code(500).send({ code: "INTERNAL", message: "internal error" });
    });

    // Origin and CSRF before any handler: a refused request changes nothing.
    app.addHook("onRequest", async (request) => {
      if (!changesSomething(request.method)) return;
      const refusal =
        originRefusal(request.headers.origin, request.host, identity.allowedOrigins) ??
        (csrfExemptRoutes.has(request.routeOptions.url ?? "")
          ? undefined
          : csrfRefusal({
              hasAuthorization: request.headers.authorization !== undefined,
              cookies: request.cookies,
              csrfHeader: singleHeader(request.headers[csrfHeaderName]),
            }));
      if (refusal) throw refusal;
    });

    app.addHook("onSend", async (_request, reply) => {
      // Tokens and profiles must not sit in shared caches.
      reply.header("cache-control", "no-store");
    });

    const signedInReply = { 200: signedInSchema, 201: signedInSchema, "4xx": errorSchema };

    app.post<{ Body: { organizationName: string; displayName: string; email: string; password: string } }>(
      "/auth/signup",
      {
        schema: {
          body: body(["organizationName", "displayName", "email", "password"], {
            organizationName: displayName,
            displayName,
            email,
            password: newPassword,
          }),
          response: signedInReply,
        },
      },
      async (request, reply) => {
        const signedIn = await identity.signUp(request.body, clientOf(request));
        return sendSignedIn(request, reply.code(201), signedIn, identity.now(), identity.accessTokenTtlSeconds);
      },
    );

    app.post<{ Body: { email: string; password: string; organizationId?: string } }>(
      "/auth/signin",
      {
        schema: {
          body: body(["email", "password"], { email: typedEmail, password: anyPassword, organizationId: id }),
          response: signedInReply,
        },
      },
      async (request, reply) => {
        const { email: address, password, organizationId } = request.body;
        const signedIn = await identity.signIn(address, password, { ...clientOf(request), organizationId });
        return sendSignedIn(request, reply, signedIn, identity.now(), identity.accessTokenTtlSeconds);
      },
    );

    app.post<{ Body: { refreshToken?: string } | undefined }>(
      "/auth/refresh",
      {
        schema: {
          body: { ...body([], { refreshToken: { type: "string", minLength: 1, maxLength: 200 } }), nullable: true },
          response: signedInReply,
        },
      },
      async (request, reply) => {
        const sdk = isSdk(request);
        const token = sdk ? request.body?.refreshToken : request.cookies[refreshCookieName];
        if (!token) {
          if (sdk) throw invalidArgument("refreshToken: an SDK client sends it in the body");
          throw unauthenticated(`no ${refreshCookieName} cookie: sign in again`);
        }
        try {
          return sendSignedIn(
            request,
            reply,
            await identity.refresh(token, clientOf(request)),
            identity.now(),
            identity.accessTokenTtlSeconds,
          );
        } catch (error) {
          // A dead refresh cookie only causes more failed refreshes: drop the cookies with the refusal.
          if (!sdk && error instanceof RpcError && error.code === ErrorCode.UNAUTHENTICATED) {
            if (!/just replaced/.test(error.message)) clearCookies(reply);
          }
          throw error;
        }
      },
    );

    app.post<{ Body: { scope?: "device" | "all" } | undefined }>(
      "/auth/signout",
      {
        schema: {
          body: { ...body([], { scope: { type: "string", enum: ["device", "all"] } }), nullable: true },
        },
      },
      async (request, reply) => {
        // Only a verified token can revoke; anything else just loses its cookies.
        const session = await identity.authenticate(request.headers).catch((error: unknown) => {
          if (error instanceof RpcError && error.code === ErrorCode.UNAUTHENTICATED) return undefined;
          throw error;
        });
        if (session && request.body?.scope === "all") await identity.signOutEverywhere(session.userId);
        else if (session) await identity.signOut(session.sessionId);
        else {
          // The access cookie may have expired while the refresh cookie still names the session.
          const refreshToken = request.cookies[refreshCookieName];
          if (refreshToken) await identity.signOutByRefreshToken(refreshToken);
        }
        if (!isSdk(request)) clearCookies(reply);
        return reply.code(204).send();
      },
    );

    app.get(
      "/auth/me",
      {
        schema: {
          response: {
            200: {
              type: "object",
              required: ["expiresAt", "user"],
              properties: { expiresAt: { type: "number" }, user: userSchema },
            },
            "4xx": errorSchema,
          },
        },
      },
      async (request) => {
        const session = await identity.authenticate(request.headers);
        const user = await identity.profile(session.userId, session.organizationId);
        if (!user) throw unauthenticated("no longer a member of this organization: sign in again");
        return { expiresAt: session.expiresAt, user };
      },
    );

    app.get("/.well-known/jwks.json", async (_request, reply) => {
      reply.type("application/jwk-set+json");
      return identity.jwks();
    });

    app.get(
      "/auth/sessions",
      {
        schema: {
          response: {
            200: {
              type: "object",
              required: ["sessions"],
              properties: {
                sessions: {
                  type: "array",
                  items: {
                    type: "object",
                    required: ["id", "createdAt", "lastUsedAt", "userAgent", "current"],
                    properties: {
                      id: { type: "string" },
                      createdAt: { type: "number" },
                      lastUsedAt: { type: "number" },
                      userAgent: { type: ["string", "null"] },
                      current: { type: "boolean" },
                    },
                  },
                },
              },
            },
            "4xx": errorSchema,
          },
        },
      },
      async (request) => {
        const session = await identity.authenticate(request.headers);
        const sessions = await identity.sessions(session.userId);
        return { sessions: sessions.map((s) => ({ ...s, current: s.id === session.sessionId })) };
      },
    );

    app.delete<{ Params: { id: string } }>(
      "/auth/sessions/:id",
      { schema: { params: idParams("id") } },
      async (request, reply) => {
        const session = await identity.authenticate(request.headers);
        await identity.revokeSession(session, request.params.id);
        return reply.code(204).send();
      },
    );

    app.post<{ Body: { currentPassword: string; newPassword: string } }>(
      "/auth/password",
      { schema: { body: body(["currentPassword", "newPassword"], { currentPassword: anyPassword, newPassword }) } },
      async (request, reply) => {
        const session = await identity.authenticate(request.headers);
        await identity.changePassword(
          session,
          request.body.currentPassword,
          request.body.newPassword,
          clientOf(request),
        );
        return reply.code(204).send();
      },
    );

    app.get(
      "/auth/members",
      {
        schema: {
          response: {
            200: {
              type: "object",
              required: ["members"],
              properties: { members: { type: "array", items: memberSchema } },
            },
            "4xx": errorSchema,
          },
        },
      },
      async (request) => {
        const session = await identity.authenticate(request.headers);
        return { members: await identity.members.list(session) };
      },
    );

    app.patch<{ Params: { userId: string }; Body: { role: RoleName } }>(
      "/auth/members/:userId",
      {
        schema: {
          params: idParams("userId"),
          body: body(["role"], { role }),
          response: { 200: memberSchema, "4xx": errorSchema },
        },
      },
      async (request) => {
        const session = await identity.authenticate(request.headers);
        return identity.members.changeRole(session, request.params.userId, request.body.role);
      },
    );

    app.delete<{ Params: { userId: string } }>(
      "/auth/members/:userId",
      { schema: { params: idParams("userId") } },
      async (request, reply) => {
        const session = await identity.authenticate(request.headers);
        await identity.members.remove(session, request.params.userId);
        return reply.code(204).send();
      },
    );

    app.get(
      "/auth/invitations",
      {
        schema: {
          response: {
            200: {
              type: "object",
              required: ["invitations"],
              properties: { invitations: { type: "array", items: invitationSchema } },
            },
            "4xx": errorSchema,
          },
        },
      },
      async (request) => {
        const session = await identity.authenticate(request.headers);
        return { invitations: await identity.invitations.list(session) };
      },
    );

    app.post<{ Body: { email: string; role: RoleName } }>(
      "/auth/invitations",
      {
        schema: {
          body: body(["email", "role"], { email, role }),
          response: { 201: invitationSchema, "4xx": errorSchema },
        },
      },
      async (request, reply) => {
        const session = await identity.authenticate(request.headers);
        const { invitation, token } = await identity.invitations.create(session, request.body.email, request.body.role);
        // The embedded shape has no mail: the link goes to the log, carrying the token and not the email.
        // In the fragment, so it never reaches a server log or a Referer header when opened.
        const link = `${linkOrigin(request, identity.allowedOrigins)}/accept-invitation#token=${token}`;
        request.log.info(`invitation link: ${link}`);
        return reply.code(201).send(invitation);
      },
    );

    app.delete<{ Params: { id: string } }>(
      "/auth/invitations/:id",
      { schema: { params: idParams("id") } },
      async (request, reply) => {
        const session = await identity.authenticate(request.headers);
        await identity.invitations.revoke(session, request.params.id);
        return reply.code(204).send();
      },
    );

    app.post<{ Body: { token: string; displayName?: string; password: string } }>(
      "/auth/invitations/accept",
      {
        schema: {
          body: body(["token", "password"], {
            token: { type: "string", minLength: 1, maxLength: 200 },
            displayName,
            // An existing account's password is checked as it is; a new one must be long enough (below).
            password: anyPassword,
          }),
          response: signedInReply,
        },
      },
      async (request, reply) => {
        const signedIn = await identity.acceptInvitation(request.body, clientOf(request));
        return sendSignedIn(request, reply, signedIn, identity.now(), identity.accessTokenTtlSeconds);
      },
    );
  };
}

function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function isSdk(request: FastifyRequest): boolean {
  return singleHeader(request.headers[clientHeaderName]) === "sdk";
}

function ownOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/** Where an invitation link points: the page that asked (already checked against the allow list), else here. */
function linkOrigin(request: FastifyRequest, allowedOrigins: ReadonlySet<string>): string {
  const origin = request.headers.origin && parseOrigin(request.headers.origin)?.origin;
  return origin !== undefined && allowedOrigins.has(origin) ? origin : ownOrigin(request);
}

function clientOf(request: FastifyRequest): ClientContext {
  return { clientAddress: request.ip, userAgent: singleHeader(request.headers["user-agent"])?.slice(0, 300) };
}

/** Browsers get cookies and no refresh token in the body; SDK clients get it in the body and no cookies. */
function sendSignedIn(
  request: FastifyRequest,
  reply: FastifyReply,
  signedIn: SignedIn,
  now: number,
  accessTtlSeconds: number,
) {
  const reply_ = { accessToken: signedIn.accessToken, expiresAt: signedIn.expiresAt, user: signedIn.user };
  if (isSdk(request)) return { ...reply_, refreshToken: signedIn.refreshToken };

  const secure = request.protocol === "https";
  const seconds = (until: number) => Math.max(0, Math.ceil((until - now) / 1000));
  reply.setCookie(accessCookieName, signedIn.accessToken, {
    httpOnly: true,
    sameSite: "strict",
    secure,
    path: "/",
    // The token's lifetime, not the seconds left of it: a second boundary passing mid-request must not shorten it.
    maxAge: Math.min(accessTtlSeconds, seconds(signedIn.sessionExpiresAt)),
  });
  reply.setCookie(refreshCookieName, signedIn.refreshToken, {
    httpOnly: true,
    sameSite: "strict",
    secure,
    path: "/auth",
    maxAge: seconds(signedIn.sessionExpiresAt),
  });
  // Kept across refreshes, so a request another tab already has in flight still matches.
  reply.setCookie(csrfCookieName, request.cookies[csrfCookieName] || newOpaqueToken(), {
    httpOnly: false,
    sameSite: "strict",
    secure,
    path: "/",
    maxAge: seconds(signedIn.sessionExpiresAt),
  });
  return reply_;
}

function clearCookies(reply: FastifyReply): void {
  reply.clearCookie(accessCookieName, { path: "/", httpOnly: true, sameSite: "strict" });
  reply.clearCookie(refreshCookieName, { path: "/auth", httpOnly: true, sameSite: "strict" });
  reply.clearCookie(csrfCookieName, { path: "/", sameSite: "strict" });
}
