/** Injectable time source: every freshness and validity decision reads the clock through this. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export const fixedClock = (epochSeconds: number): Clock => ({ now: () => epochSeconds * 1000 });

export const epochSeconds = (clock: Clock): number => Math.floor(clock.now() / 1000);
