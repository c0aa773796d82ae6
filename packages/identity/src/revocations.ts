/** What was taken away; the source gateway closes the sockets it names. */
export type Revocation =
  /** Sign-out, sign-out everywhere, a revoked session, a reused refresh token, a password change. */
  | { readonly kind: "sessions"; readonly sessionIds: readonly string[] }
  /** A member removed or their role changed: every session of that user in that organization. */
  | { readonly kind: "member"; readonly userId: string; readonly organizationId: string };

export type RevocationListener = (revocation: Revocation) => void;

/** Tells listeners about revocations, after the transaction that made them has committed. */
export class Revocations {
  readonly #listeners = new Set<RevocationListener>();
  readonly #onListenerError: (error: unknown) => void;

  constructor(onListenerError: (error: unknown) => void) {
    this.#onListenerError = onListenerError;
  }

  /** Returns the unsubscribe. */
  subscribe(listener: RevocationListener): () => void {
    // A wrapper per subscription, so subscribing one function twice unsubscribes each separately.
    const entry: RevocationListener = (revocation) => listener(revocation);
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  publish(revocation: Revocation): void {
    if (revocation.kind === "sessions" && revocation.sessionIds.length === 0) return;
    for (const listener of this.#listeners) {
      try {
        listener(revocation);
      } catch (error) {
        // One listener's failure must not keep the others from hearing of the revocation.
        this.#onListenerError(error);
      }
    }
  }
}
