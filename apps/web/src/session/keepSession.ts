import type { SluiceClient } from "@sluice/client-sdk";
import { CloseCode } from "@sluice/protocol";
import type { AppStore } from "../app/store";
import { refreshSession } from "./authApi";
import { signedIn, signedOut } from "./sessionSlice";

/**
 * When the server closes the socket as UNAUTHENTICATED (the access token expired, the role
 * changed, the session was revoked), the refresh token decides: a refresh that succeeds brings the
 * current profile (a new role shows at once) and reconnects; one the server refuses sends people
 * to sign in again, rather than leave them looking at "Offline". One try per connection, so a
 * session the socket keeps refusing cannot loop.
 */
export function keepSession(client: SluiceClient, store: AppStore): () => void {
  let resuming = false;
  return client.onStateChange(({ state, error }) => {
    if (state === "connected") resuming = false;
    if (state !== "closed" || error?.code !== CloseCode.UNAUTHENTICATED.code) return;
    if (store.getState().session.status !== "signedIn") return;
    const ended = () =>
      store.dispatch(
        signedOut({ kind: "ended", code: "UNAUTHENTICATED", message: "Your session ended. Please sign in again." }),
      );
    if (resuming) return ended();
    resuming = true;
    refreshSession().then(({ user }) => {
      store.dispatch(signedIn(user));
      client.reconnect();
    }, ended);
  });
}
