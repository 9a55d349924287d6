import { describe, expect, it } from "vitest";
import {
  columnLabels,
  defaultInterval,
  formatCell,
  formatIntervalStart,
  namesOfRows,
  presetRange,
  reportPath,
  seriesByInterval,
  seriesByName,
  serviceLevelTarget,
  todayPath,
  type ReportRow,
} from "../src/reports/model";
import { screensFor } from "../src/roles";
import type { Me } from "../src/types";

// 2026-12-03 15:20 local time (a Thursday).
const now = new Date(2026, 11, 3, 15, 20).getTime();

describe("presetRange", () => {
  it("today runs from local midnight to the next", () => {
    const r = presetRange("today", now);
    expect(r.from).toEqual(new Date(2026, 11, 3));
    expect(r.to).toEqual(new Date(2026, 11, 4));
  });
  it("yesterday, the last 7 days (today included) and this month", () => {
    expect(presetRange("yesterday", now)).toEqual({ from: new Date(2026, 11, 2), to: new Date(2026, 11, 3) });
    expect(presetRange("last7", now)).toEqual({ from: new Date(2026, 10, 27), to: new Date(2026, 11, 4) });
    expect(presetRange("month", now)).toEqual({ from: new Date(2026, 11, 1), to: new Date(2027, 0, 1) });
  });
  it("counts days in the site's time zone, not the browser's", () => {
    // 15:20 UTC on Dec 3 is already Dec 4 in Auckland (UTC+13 in summer).
    const utc = Date.UTC(2026, 11, 3, 15, 20);
    expect(presetRange("today", utc, "Pacific/Auckland")).toEqual({
      from: new Date(Date.UTC(2026, 11, 3, 11)),
      to: new Date(Date.UTC(2026, 11, 4, 11)),
    });
    expect(presetRange("yesterday", utc, "America/New_York")).toEqual({
      from: new Date(Date.UTC(2026, 11, 2, 5)),
      to: new Date(Date.UTC(2026, 11, 3, 5)),
    });
    expect(presetRange("last7", utc, "UTC")).toEqual({ from: new Date(Date.UTC(2026, 10, 27)), to: new Date(Date.UTC(2026, 11, 4)) });
  });
  it("keeps days whole across a daylight-saving change in the site's zone", () => {
    // Paris moves to summer time on 2026-03-29: that day has 23 hours, March ends at 22:00 UTC.
    const march = Date.UTC(2026, 2, 29, 12);
    expect(presetRange("today", march, "Europe/Paris")).toEqual({
      from: new Date(Date.UTC(2026, 2, 28, 23)),
      to: new Date(Date.UTC(2026, 2, 29, 22)),
    });
    expect(presetRange("month", march, "Europe/Paris")).toEqual({
      from: new Date(Date.UTC(2026, 1, 28, 23)),
      to: new Date(Date.UTC(2026, 2, 31, 22)),
    });
    // December 31 rolls into January of the next year.
    expect(presetRange("month", Date.UTC(2026, 11, 31, 12), "Europe/Paris").to).toEqual(new Date(Date.UTC(2026, 11, 31, 23)));
  });
  it("picks an interval that reads well", () => {
    expect(defaultInterval("today")).toBe("1h");
    expect(defaultInterval("month")).toBe("1d");
  });
});

describe("reportPath", () => {
  const range = { from: new Date("2026-12-03T00:00:00Z"), to: new Date("2026-12-04T00:00:00Z") };
  it("encodes the range, the interval and the name", () => {
    expect(reportPath("queues", range, "15m", "sales")).toBe(
      "/reports/queues?from=2026-12-03T00%3A00%3A00.000Z&to=2026-12-04T00%3A00%3A00.000Z&interval=15m&queue=sales",
    );
    expect(reportPath("agents", range, "1d", "", "csv")).toBe(
      "/reports/agents?from=2026-12-03T00%3A00%3A00.000Z&to=2026-12-04T00%3A00%3A00.000Z&interval=1d&format=csv",
    );
  });
  it("asks for the one day holding now for the agent's own figures", () => {
    const path = todayPath("alice", Date.parse("2026-12-03T10:00:00Z"));
    expect(path).toContain("interval=1d");
    expect(path).toContain("agent=alice");
    expect(path).toContain("to=2026-12-03T10%3A00%3A00.000Z");
  });
});

const rows: ReportRow[] = [
  { queue: "sales", interval_start: "2026-12-03T09:00:00Z", answered: 3, abandoned: 1, handled: 2, talk: 100, hold: 10, wrap_up: 20, service_level: 0.75, sl_target: 0.8 },
  { queue: "support", interval_start: "2026-12-03T09:00:00Z", answered: 1, abandoned: 0, handled: 2, talk: 200, hold: 0, wrap_up: 40, service_level: null, sl_target: 0.9 },
  { queue: "sales", interval_start: "2026-12-03T10:00:00Z", answered: 0, abandoned: 0, handled: 0, talk: null, hold: null, wrap_up: null, service_level: null, sl_target: 0.8 },
];

describe("chart series", () => {
  it("sums counts per interval and weights averages by handled contacts", () => {
    const points = seriesByInterval(rows);
    expect(points.map((p) => p.start)).toEqual(["2026-12-03T09:00:00Z", "2026-12-03T10:00:00Z"]);
    expect(points[0]).toMatchObject({ answered: 4, abandoned: 1, handled: 4, talk: 150, hold: 5, wrapUp: 30 });
    expect(points[1]).toMatchObject({ handled: 0, talk: null });
  });
  it("draws first-contact resolution per queue, null where none was judged", () => {
    const fcrRows: ReportRow[] = [
      { queue: "sales", interval_start: "2026-12-03T09:00:00Z", fcr_contacts: 4, fcr: 0.75 },
      { queue: "sales", interval_start: "2026-12-03T10:00:00Z", fcr_contacts: 0, fcr: null },
    ];
    expect(seriesByName(fcrRows, "fcr")).toEqual([{ name: "sales", values: [0.75, null] }]);
  });
  it("keeps the server's service level per queue, gaps as null", () => {
    expect(seriesByName(rows, "service_level")).toEqual([
      { name: "sales", values: [0.75, null] },
      { name: "support", values: [null, null] },
    ]);
    expect(serviceLevelTarget(rows)).toBe(0.9);
  });
});

describe("formatCell", () => {
  it("shows ratios in percent, seconds as a clock and undefined figures as a dash", () => {
    expect(formatCell("service_level", 0.8571, "1h")).toBe("85.7%");
    expect(formatCell("aht", 125.4, "1h")).toBe("2:05");
    expect(formatCell("logged_in", 3725, "1d")).toBe("1:02:05");
    expect(formatCell("asa", null, "1h")).toBe("–");
    expect(formatCell("offered", 7, "1h")).toBe("7");
    expect(formatCell("nps", 33.333, "1h")).toBe("33");
  });
  it("shows first-contact resolution in percent beside its counts", () => {
    expect(formatCell("fcr", 0.75, "1h")).toBe("75%");
    expect(formatCell("fcr", null, "1h")).toBe("–");
    expect(formatCell("fcr_contacts", 4, "1h")).toBe("4");
    expect(formatCell("fcr_open", 1, "1h")).toBe("1");
    expect(columnLabels.fcr).toBe("FCR");
    expect(columnLabels.fcr_contacts).toBe("FCR n");
  });
  it("labels intervals by their grain", () => {
    const start = new Date(2026, 11, 3, 9, 15).toISOString();
    expect(formatIntervalStart(start, "15m")).toBe("2026-12-03 09:15");
    expect(formatIntervalStart(start, "1d")).toBe("2026-12-03");
    expect(formatIntervalStart(start, "1mo")).toBe("2026-12");
  });
  it("labels in the site's time zone, which the server's days follow", () => {
    expect(formatIntervalStart("2026-12-02T23:00:00Z", "1d", "Europe/Paris")).toBe("2026-12-03");
    expect(formatIntervalStart("2026-12-03T08:30:00Z", "30m", "Asia/Kolkata")).toBe("2026-12-03 14:00");
    expect(formatIntervalStart("2026-12-03T08:30:00Z", "1h", "Mars/Olympus")).toBe("2026-12-03T08:30:00Z");
  });
});

describe("the Reports screen in the navigation", () => {
  const base: Me = { login: "x", roles: [], permissions: {} };
  it("is offered with team or all reach of reports.read, not to an agent reading only its own", () => {
    expect(screensFor({ ...base, permissions: { "reports.read": "all" } })).toContain("reports");
    expect(screensFor({ ...base, permissions: { "reports.read": "team" } })).toContain("reports");
    expect(screensFor({ ...base, permissions: { "reports.read": "self" } })).not.toContain("reports");
  });
});

describe("the name filter's choices from a report", () => {
  it("are the report's queues or agents, once each, sorted", () => {
    const rows: ReportRow[] = [
      { queue: "support", interval_start: "2026-03-02T09:00:00Z" },
      { queue: "billing", interval_start: "2026-03-02T09:00:00Z" },
      { queue: "support", interval_start: "2026-03-02T10:00:00Z" },
    ];
    expect(namesOfRows(rows)).toEqual(["billing", "support"]);
    expect(namesOfRows([{ agent: "bob" }, { agent: "alice" }, { agent: null }])).toEqual(["alice", "bob"]);
    expect(namesOfRows([])).toEqual([]);
  });
});
