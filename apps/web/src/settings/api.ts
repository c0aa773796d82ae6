import { createApi, type BaseQueryFn } from "@reduxjs/toolkit/query/react";
import type { Invitation, Member, RoleName, SessionSummary } from "@sluice/identity";
import { listeners } from "../app/listeners";
import { appMiddleware, rootReducer } from "../app/store";
import { AuthError, request, type HttpMethod } from "../session/authApi";
import { signedOut } from "../session/sessionSlice";

// The Settings app's server data: identity's REST endpoints (see the contract in docs/identity.md)
// as RTK Query endpoints. The HTTP itself is session/authApi's `request` (cookies, CSRF header,
// refresh on expiry); RTK Query adds the cache, loading states and reloads after each change.

export type { Invitation, Member } from "@sluice/identity";

/** One signed-in device of the user, as GET /auth/sessions lists it. */
export interface DeviceSession extends SessionSummary {
  /** The session this page runs in. */
  readonly current: boolean;
}

/** A refusal in the server's words; UNAVAILABLE when it could not be reached. */
export interface ApiError {
  code: string;
  message: string;
  retryAfterSeconds?: number | undefined;
}

interface Call {
  method: HttpMethod;
  path: string;
  body?: unknown;
}

const identityQuery: BaseQueryFn<Call, unknown, ApiError> = async ({ method, path, body }) => {
  try {
    return { data: await request(method, path, body) };
  } catch (error) {
    if (error instanceof AuthError)
      return { error: { code: error.code, message: error.message, retryAfterSeconds: error.retryAfterSeconds } };
    return { error: { code: "UNAVAILABLE", message: "The server could not be reached." } };
  }
};

const at = (id: string) => encodeURIComponent(id);

export const settingsApi = createApi({
  reducerPath: "settingsApi",
  baseQuery: identityQuery,
  tagTypes: ["Member", "Invitation", "Session"],
  // Opening a module shows the server's current answer: someone else may have changed it.
  refetchOnMountOrArgChange: true,
  endpoints: (build) => ({
    members: build.query<Member[], void>({
      query: () => ({ method: "GET", path: "/auth/members" }),
      transformResponse: (reply: { members: Member[] }) => reply.members,
      providesTags: ["Member"],
    }),
    changeRole: build.mutation<Member, { userId: string; role: RoleName }>({
      query: ({ userId, role }) => ({ method: "PATCH", path: `/auth/members/${at(userId)}`, body: { role } }),
      // The reply is the member as changed: show it at once, then reload the list anyway.
      async onQueryStarted(_change, { dispatch, queryFulfilled }) {
        const changed = await queryFulfilled.then(
          ({ data }) => data,
          () => undefined,
        );
        if (!changed) return;
        dispatch(
          settingsApi.util.updateQueryData("members", undefined, (members) =>
            members.map((member) => (member.userId === changed.userId ? changed : member)),
          ),
        );
      },
      invalidatesTags: ["Member"],
    }),
    removeMember: build.mutation<void, string>({
      query: (userId) => ({ method: "DELETE", path: `/auth/members/${at(userId)}` }),
      invalidatesTags: ["Member"],
    }),
    invitations: build.query<Invitation[], void>({
      query: () => ({ method: "GET", path: "/auth/invitations" }),
      transformResponse: (reply: { invitations: Invitation[] }) => reply.invitations,
      providesTags: ["Invitation"],
    }),
    invite: build.mutation<Invitation, { email: string; role: RoleName }>({
      query: (body) => ({ method: "POST", path: "/auth/invitations", body }),
      invalidatesTags: ["Invitation"],
    }),
    revokeInvitation: build.mutation<void, string>({
      query: (id) => ({ method: "DELETE", path: `/auth/invitations/${at(id)}` }),
      invalidatesTags: ["Invitation"],
    }),
    sessions: build.query<DeviceSession[], void>({
      query: () => ({ method: "GET", path: "/auth/sessions" }),
      transformResponse: (reply: { sessions: DeviceSession[] }) => reply.sessions,
      providesTags: ["Session"],
    }),
    signOutSession: build.mutation<void, string>({
      query: (id) => ({ method: "DELETE", path: `/auth/sessions/${at(id)}` }),
      invalidatesTags: ["Session"],
    }),
    changePassword: build.mutation<void, { currentPassword: string; newPassword: string }>({
      query: (body) => ({ method: "POST", path: "/auth/password", body }),
      // The server signs every other device out.
      invalidatesTags: ["Session"],
    }),
  }),
});

export const {
  useMembersQuery,
  useChangeRoleMutation,
  useRemoveMemberMutation,
  useInvitationsQuery,
  useInviteMutation,
  useRevokeInvitationMutation,
  useSessionsQuery,
  useSignOutSessionMutation,
  useChangePasswordMutation,
} = settingsApi;

declare module "../app/store" {
  export interface LazyLoadedSlices {
    [settingsApi.reducerPath]: ReturnType<typeof settingsApi.reducer>;
  }
}

// The Settings chunk brings its cache along: nothing of it is in the main bundle.
rootReducer.inject(settingsApi);
appMiddleware.addMiddleware(settingsApi.middleware);

// Another person may sign in on this page next: nothing cached for the last one may show.
listeners.startListening({
  actionCreator: signedOut,
  effect: (_action, api) => {
    api.dispatch(settingsApi.util.resetApiState());
  },
});
