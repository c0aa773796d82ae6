import { createSlice } from "@reduxjs/toolkit";
import { sluicePresence, sluiceSubscribed } from "@sluice/client-sdk/redux";
import type { PresenceMemberJson } from "@sluice/contracts/gen/sluice/v1/envelope_pb";

/** Who is on each channel subscribed with presence, by user id. */
export type PresenceState = Record<string, Record<string, PresenceMemberJson>>;

export const presenceSlice = createSlice({
  name: "presence",
  initialState: {} as PresenceState,
  reducers: {},
  extraReducers: (builder) =>
    builder
      .addCase(sluiceSubscribed, (state, { payload }) => {
        if (payload.presence.length === 0 && !state[payload.channel]) return;
        state[payload.channel] = Object.fromEntries(payload.presence.map((member) => [member.userId ?? "", member]));
      })
      .addCase(sluicePresence, (state, { payload }) => {
        const members = (state[payload.channel] ??= {});
        const id = payload.member.userId ?? "";
        if (payload.joined) members[id] = payload.member;
        else delete members[id];
      }),
});
