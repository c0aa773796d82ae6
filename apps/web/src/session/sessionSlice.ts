import { createSlice, type PayloadAction } from "@reduxjs/toolkit";
import type { UserProfile } from "@sluice/identity";

/** Who is signed in. "unknown" until /auth/me answered at start. */
export interface SessionState {
  status: "unknown" | "signedOut" | "signingIn" | "signedIn";
  user: UserProfile | null;
  error: { code: string; message: string } | null;
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
    signedOut(state, { payload }: PayloadAction<{ code: string; message: string } | null>) {
      state.status = "signedOut";
      state.user = null;
      state.error = payload;
    },
  },
});

export const { signInStarted, signedIn, signedOut } = sessionSlice.actions;
