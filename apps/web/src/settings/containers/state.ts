import type { SerializedError } from "@reduxjs/toolkit";
import type { RoleName } from "@sluice/identity";
import { useAppSelector } from "../../app/hooks";
import type { ApiError } from "../api";
import type { ActionState } from "../views/MembersView";

/** RTK Query's error (the server's refusal, or a thrown one) in the views' words. */
export function apiError(error: ApiError | SerializedError | undefined): ApiError | undefined {
  if (!error) return undefined;
  return { code: error.code ?? "UNKNOWN", message: error.message ?? "", ...("retryAfterSeconds" in error && error) };
}

export function actionState(state: {
  isLoading: boolean;
  error?: ApiError | SerializedError | undefined;
}): ActionState {
  return { busy: state.isLoading, error: apiError(state.error) };
}

/** The signed-in user as the rules see them. Settings renders only inside RequireSession. */
export function useActor(): { userId: string; role: RoleName } {
  const user = useAppSelector((state) => state.session.user);
  return { userId: user?.id ?? "", role: user?.role ?? "viewer" };
}
