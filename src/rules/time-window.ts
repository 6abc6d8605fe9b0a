import * as z from "zod";

/**
 * A recurring local-time window ("weekdays 22:00–06:00"): analysts scope a rule to when a fraud
 * campaign runs. Kazakhstan keeps one time zone, UTC+5, since 1 March 2024, hence the default offset.
 */
const clockTime = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, "expected HH:MM (24-hour)");

export const timeWindowSchema = z
  .object({
    start: clockTime,
    end: clockTime,
    /** ISO weekdays, 1 = Monday to 7 = Sunday, of the day the window starts; all days when absent. */
    days: z.array(z.number().int().min(1).max(7)).min(1).max(7).optional(),
    utcOffset: z.string().regex(/^[+-](0[0-9]|1[0-4]):[0-5][0-9]$/, "expected ±HH:MM").default("+05:00"),
  })
  .strict()
  .refine((window) => window.start !== window.end, { path: ["end"], message: "end must differ from start" });
export type TimeWindow = z.infer<typeof timeWindowSchema>;

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export function isWithinTimeWindow(window: TimeWindow, epochMs: number): boolean {
  const sign = window.utcOffset.startsWith("-") ? -1 : 1;
  const offsetMinutes = sign * minutesOf(window.utcOffset.slice(1));
  const local = new Date(epochMs + offsetMinutes * 60_000);
  const minuteOfDay = local.getUTCHours() * 60 + local.getUTCMinutes();
  const isoWeekday = ((local.getUTCDay() + 6) % 7) + 1;
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  if (start < end) return minuteOfDay >= start && minuteOfDay < end && (!window.days || window.days.includes(isoWeekday));
  // The window crosses midnight: after midnight it belongs to the day it started on.
  if (minuteOfDay >= start) return !window.days || window.days.includes(isoWeekday);
  if (minuteOfDay < end) return !window.days || window.days.includes(((isoWeekday + 5) % 7) + 1);
  return false;
}

