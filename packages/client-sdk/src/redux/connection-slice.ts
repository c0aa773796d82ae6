import { createSlice } from "@reduxjs/toolkit";
import type { ConnectionState } from "../types";
import { sluiceConnection } from "./actions";

export interface ConnectionSliceState {
  readonly state: ConnectionState;
  /** Why the last socket ended; kept after reconnecting so the indicator can say what happened. */
  readonly lastError: { readonly code: number; readonly reason: string } | null;
  /** Unix milliseconds since which `state` holds. */
  readonly since: number | null;
  readonly retryInMs: number | null;
}

const initialState: ConnectionSliceState = { state: "connecting", lastError: null, since: null, retryInMs: null };

/** The connection status for the shell's indicator; mount it at `sluiceConnection`. */
export const connectionSlice = createSlice({
  name: "sluiceConnection",
  initialState,
  reducers: {},
  extraReducers: (builder) =>
    builder.addCase(sluiceConnection, (current, { payload }) => ({
      state: payload.state,
      lastError: payload.error ?? current.lastError,
      since: payload.state === current.state && current.since !== null ? current.since : payload.at,
      retryInMs: payload.retryInMs,
    })),
  selectors: {
    selectConnection: (slice) => slice,
  },
});

export const { selectConnection } = connectionSlice.selectors;
