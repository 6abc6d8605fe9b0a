/** How far past the call's instant an observation may be stamped before it is a clock or data error rather than "now". */
const FUTURE_TOLERANCE_MS = 60_000;

const seconds = (ms: number) => Math.round(ms / 1000);

/** Why an observation stamped at `observedAtMs` cannot be written at `nowMs` (the feed's clock or data is wrong), or null. */
export function futureObservation(observedAtMs: number, nowMs: number): string | null {
  const aheadMs = observedAtMs - nowMs;
  return aheadMs > FUTURE_TOLERANCE_MS ? `is ${seconds(aheadMs)} s in the future: the feed's clock or data is wrong (at most ${seconds(FUTURE_TOLERANCE_MS)} s ahead is taken for now)` : null;
}

/**
 * Why a roaming observation made at `observedAtMs` cannot say where the subscriber is at `atMs`, or
 * null when it can. Check 6 asks whether the subscriber is abroad *right now* (cli-spoofing.md §3):
 * an observation older than the operator's limit does not answer that, nor one stamped in the
 * future, which would otherwise stay young for ever. Without a limit (null) every observation is believed.
 */
export function observationTrouble(observedAtMs: number, atMs: number, maxAgeMs: number | null): string | null {
  if (maxAgeMs === null) return null;
  const ageMs = atMs - observedAtMs;
  if (ageMs > maxAgeMs) return `observed ${seconds(ageMs)} s before the call, more than the ${seconds(maxAgeMs)} s allowed`;
  if (-ageMs > FUTURE_TOLERANCE_MS) return `observed ${seconds(-ageMs)} s after the call: the source's clock or data is wrong`;
  return null;
}

/** The observation's age at the call's instant, in whole seconds (negative: stamped after it). */
export const observationAgeSeconds = (observedAtMs: number, atMs: number): number => seconds(atMs - observedAtMs);
