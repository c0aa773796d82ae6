import { createSlice, type PayloadAction } from "@reduxjs/toolkit";
import type { UserProfile } from "@sluice/identity";

/** Why nobody is signed in, when it is worth saying: a refused sign-in, an ended session, no server. */
export interface SessionProblem {
  kind: "refused" | "ended" | "unreachable";
  /** The server's error code, e.g. UNAUTHENTICATED. */
  code: string;
  message: string;
}

/** Who is signed in. "unknown" until /auth/me answered at start. */
export interface SessionState {
  status: "unknown" | "signedOut" | "signingIn" | "signedIn";
  user: UserProfile | null;
  error: SessionProblem | null;
}

const initialState: SessionState = { status: "unknown", user: null, error: null };

export const sessionSlice = createSlice({
  name: "session",
  initialState,
  reducers: {
    signInStarted(state) {
      state.status = "signingIn";
      state.error = null;
    },
    signedIn(state, { payload }: PayloadAction<UserProfile>) {
      state.status = "signedIn";
      state.user = payload;
      state.error = null;
    },
    signedOut(state, { payload }: PayloadAction<SessionProblem | null>) {
      state.status = "signedOut";
      state.user = null;
      state.error = payload;
    },
  },
});

export const { signInStarted, signedIn, signedOut } = sessionSlice.actions;
