import type { ActionReducerMapBuilder, Draft } from "@reduxjs/toolkit";
import { sluicePublication, sluiceSubscribed, type PublicationPayload } from "@sluice/client-sdk/redux";

/**
 * The plumbing of a view loaded by a query and kept live by publications. Each slice keeps its own
 * `fold` of a publication into its view; this keeps the publications that arrive while a query is
 * in flight, and folds them over its answer.
 */
export interface LiveView {
  /** A query is in flight: publications wait in `pending` and are folded over its answer. */
  loading: boolean;
  pending: PublicationPayload[];
  /** A publication showed a gap: the listener refetches. */
  stale: boolean;
}

export const idleLiveView: LiveView = { loading: false, pending: [], stale: false };

type Fold<S> = (state: Draft<S>, publication: PublicationPayload) => void;

/** A query went out. `otherView`: it is not for the view held, whose queued publications are dropped. */
export function liveViewRequested(state: LiveView, otherView: boolean): void {
  if (otherView) state.pending = [];
  state.loading = true;
  state.stale = false;
}

/** The answer is merged into the view: fold what arrived while it was in flight. */
export function liveViewLoaded<S extends LiveView>(state: Draft<S>, fold: Fold<S>): void {
  state.loading = false;
  const pending = state.pending;
  state.pending = [];
  for (const publication of pending) fold(state, publication);
}

export function liveViewFailed(state: LiveView): void {
  state.loading = false;
  state.pending = [];
}

/** Merge by version: an answer may be older than publications already folded (projections lag). */
export function mergeByVersion<T extends { version?: string }>(
  held: Record<string, T>,
  answer: T[],
  idOf: (item: T) => string | undefined,
): void {
  for (const item of answer) {
    const id = idOf(item) ?? "";
    const kept = held[id];
    if (!kept || Number(kept.version ?? 0) <= Number(item.version ?? 0)) held[id] = item;
  }
}

/**
 * Keeps the view live. A subscription to its `channel` that was not recovered marks it loading (the
 * listener reloads; what arrives meanwhile waits for that answer). A publication on a channel that
 * is `ours` (by default: its `channel`) is folded, or queued while loading.
 */
export function addLiveViewCases<S extends LiveView>(
  builder: ActionReducerMapBuilder<S>,
  view: {
    channel: (state: Draft<S>) => string | null;
    ours?: (state: Draft<S>, channel: string) => boolean;
    fold: Fold<S>;
  },
): ActionReducerMapBuilder<S> {
  const ours = view.ours ?? ((state, channel) => channel === view.channel(state));
  return builder
    .addCase(sluiceSubscribed, (state, { payload }) => {
      const channel = view.channel(state);
      if (channel !== null && payload.channel === channel && !payload.recovered) state.loading = true;
    })
    .addCase(sluicePublication, (state, { payload }) => {
      if (!ours(state, payload.channel)) return;
      if (state.loading) state.pending.push(payload);
      else view.fold(state, payload);
    });
}
