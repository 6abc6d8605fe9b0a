import { afterEach, beforeEach, vi } from "vitest";

/**
 * Fake timers and clock for every test of the file that calls it, with the stores' failure lines
 * (`console.error`) kept out of the report; both undone after each test.
 */
export function withFakeTimeAndQuietErrors(): void {
  beforeEach(() => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });
}
