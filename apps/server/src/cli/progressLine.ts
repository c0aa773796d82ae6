// A rebuild's progress for people: one line redrawn in place on a terminal, plain lines otherwise.
import type { RebuildProgress } from "@sluice/event-store";

const count = (n: number) => Math.round(n).toLocaleString("en-US");

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** "dispatch.read-models: 120,000 / 200,000 events (60%), 52,300 events/s, 1.5 s left". */
export function formatProgress(progress: RebuildProgress): string {
  const { projection, eventsDone, eventsTotal, eventsPerSecond, secondsLeft } = progress;
  const percent = eventsTotal > 0 ? Math.floor((eventsDone / eventsTotal) * 100) : 100;
  const rate = `${count(eventsPerSecond)} events/s`;
  const head = `${projection}: ${count(eventsDone)} / ${count(eventsTotal)} events (${percent}%)`;
  switch (progress.phase) {
    case "building":
      return `${head}, ${rate}, ${secondsLeft === undefined ? "time left unknown yet" : `${formatDuration(secondsLeft)} left`}`;
    case "swapping":
      return `${head}, swapping in`;
    case "done":
      return `${projection}: ${count(eventsDone)} events in ${formatDuration(progress.secondsElapsed)}`;
  }
}

export interface ProgressWriter {
  (progress: RebuildProgress): void;
  /** Ends the in-place line, if any, so what follows starts on a line of its own. */
  end(): void;
}

/**
 * On a TTY the line is redrawn at most 10 times a second; otherwise a line every `plainEveryMs`
 * and at each change of phase, so logs stay short.
 */
export function progressWriter(
  out: { write(text: string): unknown; isTTY?: boolean },
  plainEveryMs = 5_000,
  now: () => number = Date.now,
): ProgressWriter {
  let lastAt = -Infinity;
  let lastPhase: RebuildProgress["phase"] | undefined;
  let open = false;
  const write = (progress: RebuildProgress) => {
    const changed = progress.phase !== lastPhase;
    const due = now() - lastAt >= (out.isTTY ? 100 : plainEveryMs);
    if (!changed && !due) return;
    lastAt = now();
    lastPhase = progress.phase;
    if (out.isTTY) {
      out.write(`\r\x1b[2K${formatProgress(progress)}`);
      open = true;
    } else {
      out.write(`${formatProgress(progress)}\n`);
    }
  };
  return Object.assign(write, {
    end() {
      if (open) out.write("\n");
      open = false;
    },
  });
}
