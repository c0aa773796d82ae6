// How far a rebuild has got, how fast it goes and how long it has left: pure, for any display.

export interface RebuildProgress {
  readonly projection: string;
  /** "building": pages applied beside the live tables; "swapping": putting them in place; "done". */
  readonly phase: "building" | "swapping" | "done";
  /** Events applied by this run. */
  readonly eventsDone: number;
  /**
   * Events in the log after the place this run started from, counted when it started, plus those
   * applied since beyond that count (appends go on while it runs).
   */
  readonly eventsTotal: number;
  /** Events applied per second, over the last few seconds. */
  readonly eventsPerSecond: number;
  /** At the current rate; undefined until there is a rate. */
  readonly secondsLeft: number | undefined;
  readonly secondsElapsed: number;
}

/**
 * A rate over a sliding window of recent samples: steady when pages vary in size and time, and
 * following a change of pace (another load on the machine) within the window.
 */
export function createRateMeter(windowMs = 5_000, now: () => number = () => performance.now()) {
  const started = now();
  const samples: { at: number; done: number }[] = [{ at: started, done: 0 }];
  return {
    /** Records `done` events so far and returns the rate over the window. */
    record(done: number): number {
      const at = now();
      samples.push({ at, done });
      while (samples.length > 2 && at - samples[1]!.at >= windowMs) samples.shift();
      const first = samples[0]!;
      return at > first.at ? ((done - first.done) * 1000) / (at - first.at) : 0;
    },
    secondsElapsed: () => (now() - started) / 1000,
  };
}

/** The progress after `done` of `total` events at `rate` events/s. */
export function progressOf(
  projection: string,
  phase: RebuildProgress["phase"],
  done: number,
  total: number,
  rate: number,
  secondsElapsed: number,
): RebuildProgress {
  const eventsTotal = Math.max(total, done);
  return {
    projection,
    phase,
    eventsDone: done,
    eventsTotal,
    eventsPerSecond: rate,
    secondsLeft: phase === "done" ? 0 : rate > 0 ? (eventsTotal - done) / rate : undefined,
    secondsElapsed,
  };
}
