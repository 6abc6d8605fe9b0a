/**
 * Progress lines for long CLI operations (trust-list import, bulk rule import). One line per report,
 * not a redrawn bar, so that a log file or a CI transcript reads the same as a terminal.
 */
const INTERVAL_MS = 1000;

export type ProgressReporter = (done: number, total: number, what: string) => void;

export function progressReporter(write: (line: string) => void, enabled: boolean, now: () => number = Date.now): ProgressReporter {
  if (!enabled) return () => {};
  let lastAt = -Infinity;
  return (done, total, what) => {
    const at = now();
    if (done < total && at - lastAt < INTERVAL_MS) return;
    lastAt = at;
    write(`${what} ${done}/${total}`);
  };
}
