import { createSlice, nanoid, type PayloadAction } from "@reduxjs/toolkit";
import type { ToastMessage } from "@sluice/design-system";

/** A toast as data: the store stays serializable, so no buttons in here. */
export type ToastData = Omit<ToastMessage, "action" | "id"> & { id: string };

export const toastsSlice = createSlice({
  name: "toasts",
  initialState: [] as ToastData[],
  reducers: {
    toastShown: {
      reducer(state, { payload }: PayloadAction<ToastData>) {
        // The same message twice in a row is one toast.
        if (state.some((toast) => toast.title === payload.title && toast.message === payload.message)) return;
        state.push(payload);
        if (state.length > 4) state.shift();
      },
      prepare: (toast: Omit<ToastData, "id">) => ({ payload: { ...toast, id: nanoid() } }),
    },
    toastDismissed(state, { payload }: PayloadAction<string>) {
      return state.filter((toast) => toast.id !== payload);
    },
  },
});

export const { toastShown, toastDismissed } = toastsSlice.actions;
