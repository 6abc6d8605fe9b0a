import { describe, expect, it } from "vitest";
import { isWithinTimeWindow, timeWindowSchema, type TimeWindow } from "../../../src/rules/time-window";

/** 2026-11-27 was a Friday (ISO weekday 5). */
const at = (utc: string) => Date.parse(`2026-11-${utc}Z`);
const window = (fields: Partial<TimeWindow> & Pick<TimeWindow, "start" | "end">): TimeWindow => timeWindowSchema.parse(fields);

describe("a time window within one day", () => {
  const office = window({ start: "09:30", end: "17:15", days: [5] }); // Fridays, Almaty time (UTC+5)

  it("opens at its start minute and closes at its end minute", () => {
    expect(isWithinTimeWindow(office, at("27T04:29:00"))).toBe(false); // 09:29
    expect(isWithinTimeWindow(office, at("27T04:30:00"))).toBe(true); // 09:30
    expect(isWithinTimeWindow(office, at("27T12:14:59"))).toBe(true); // 17:14:59
    expect(isWithinTimeWindow(office, at("27T12:15:00"))).toBe(false); // 17:15
  });

  it("holds only on its days, and on every day without them", () => {
    expect(isWithinTimeWindow(office, at("26T07:00:00"))).toBe(false); // Thursday 12:00
    expect(isWithinTimeWindow(window({ start: "09:30", end: "17:15" }), at("26T07:00:00"))).toBe(true);
  });

  it("reads the offset's sign and minutes: 12:00 at UTC−03:30 is 15:30 UTC", () => {
    const noon = window({ start: "12:00", end: "12:01", utcOffset: "-03:30" });
    expect(isWithinTimeWindow(noon, at("27T15:30:00"))).toBe(true);
    expect(isWithinTimeWindow(noon, at("27T15:29:59"))).toBe(false);
    expect(isWithinTimeWindow(noon, at("27T08:30:00"))).toBe(false); // 12:00 at UTC+03:30
  });
});

describe("a time window crossing midnight", () => {
  const nights = window({ start: "22:45", end: "06:10", days: [5] }); // Friday nights, Almaty time

  it("opens at its start minute on its day and runs into the next morning until its end minute", () => {
    expect(isWithinTimeWindow(nights, at("27T17:44:00"))).toBe(false); // Friday 22:44
    expect(isWithinTimeWindow(nights, at("27T17:45:00"))).toBe(true); // Friday 22:45
    expect(isWithinTimeWindow(nights, at("28T01:09:00"))).toBe(true); // Saturday 06:09, started Friday
    expect(isWithinTimeWindow(nights, at("28T01:10:00"))).toBe(false); // Saturday 06:10
    expect(isWithinTimeWindow(nights, at("28T07:00:00"))).toBe(false); // Saturday 12:00
  });

  it("belongs after midnight to the day it started on", () => {
    expect(isWithinTimeWindow(nights, at("27T01:00:00"))).toBe(false); // Friday 06:00: Thursday's night
    expect(isWithinTimeWindow(nights, at("28T17:45:00"))).toBe(false); // Saturday 22:45
    expect(isWithinTimeWindow(window({ start: "22:45", end: "06:10", days: [4] }), at("27T01:00:00"))).toBe(true); // Friday 06:00, Thursday's night
  });
});

describe("a time window's schema", () => {
  it("refuses an end equal to its start, and defaults the offset to Kazakhstan's UTC+5", () => {
    expect(timeWindowSchema.safeParse({ start: "10:00", end: "10:00" }).error?.issues).toMatchObject([{ path: ["end"], message: "end must differ from start" }]);
    expect(timeWindowSchema.parse({ start: "10:00", end: "10:01" })).toEqual({ start: "10:00", end: "10:01", utcOffset: "+05:00" });
  });
});
