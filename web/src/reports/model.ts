// The Reports screen's pure logic (unit-tested in test/reports.test.ts): range presets (in the
// site's time zone), the report URL, and the series the charts draw. The figures themselves come from the server
// (GET /api/v1/reports/*, columns in docs/metrics.md "Reports"); nothing here redefines a KPI.
// Summing across queues adds counts, and an average over several rows is the handled-weighted
// one (total time / total handled), as the server's own totals would be.

export type Subject = "queues" | "agents";
export type Interval = "15m" | "30m" | "1h" | "1d" | "1w" | "1mo";
export type Preset = "today" | "yesterday" | "last7" | "month";

export const intervals: Interval[] = ["15m", "30m", "1h", "1d", "1w", "1mo"];
export const intervalLabels: Record<Interval, string> = {
  "15m": "15 minutes",
  "30m": "30 minutes",
  "1h": "Hour",
  "1d": "Day",
  "1w": "Week",
  "1mo": "Month",
};
export const presets: Preset[] = ["today", "yesterday", "last7", "month"];
export const presetLabels: Record<Preset, string> = {
  today: "Today",
  yesterday: "Yesterday",
  last7: "Last 7 days",
  month: "This month",
};

/** One row as the API sends it: column name → number, string or null (undefined figure). */
export type ReportRow = Record<string, number | string | null>;

export interface Report {
  subject: Subject;
  interval: Interval;
  time_zone: string;
  from: string;
  to: string;
  as_of: string;
  service_level_variant: string;
  columns: string[];
  rows: ReportRow[];
}

/** The calendar date and wall-clock time of `instant` in `timeZone` (an IANA name). */
function wallClock(instant: number, timeZone: string): { y: number; m: number; d: number; h: number; min: number; s: number } {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  }).formatToParts(new Date(instant));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return { y: get("year"), m: get("month"), d: get("day"), h: get("hour") % 24, min: get("minute"), s: get("second") };
}

/** The instant of midnight starting calendar day y-m-d (m 1-12; d may overflow) in `timeZone`. */
export function zonedMidnight(y: number, m: number, d: number, timeZone: string): Date {
  const wall = Date.UTC(y, m - 1, d);
  const offsetAt = (instant: number) => {
    const w = wallClock(instant, timeZone);
    return Date.UTC(w.y, w.m - 1, w.d, w.h, w.min, w.s) - Math.floor(instant / 1000) * 1000;
  };
  // Twice: the offset at the first guess may differ from the one at midnight (a DST change).
  let t = wall - offsetAt(wall);
  t = wall - offsetAt(t);
  return new Date(t);
}

/**
 * [from, to) of a preset; `now` in ms since the epoch. Days are the site's calendar days when its
 * time zone is known (GET /api/v1/me's `time_zone`, the zone the server's reports follow), else
 * the browser's.
 */
export function presetRange(preset: Preset, now: number, timeZone?: string): { from: Date; to: Date } {
  let day: (n: number) => Date;
  let monthStart: (n: number) => Date;
  if (timeZone) {
    const w = wallClock(now, timeZone);
    day = (n) => zonedMidnight(w.y, w.m, w.d + n, timeZone);
    monthStart = (n) => zonedMidnight(w.y, w.m + n, 1, timeZone);
  } else {
    const d = new Date(now);
    day = (n) => new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);
    monthStart = (n) => new Date(d.getFullYear(), d.getMonth() + n, 1);
  }
  switch (preset) {
    case "today":
      return { from: day(0), to: day(1) };
    case "yesterday":
      return { from: day(-1), to: day(0) };
    case "last7":
      return { from: day(-6), to: day(1) };
    case "month":
      return { from: monthStart(0), to: monthStart(1) };
  }
}

/** The interval a preset reads best in. */
export function defaultInterval(preset: Preset): Interval {
  return preset === "today" || preset === "yesterday" ? "1h" : "1d";
}

/** The API path (under /api/v1) of a report; `name` "" means every queue or agent. */
export function reportPath(
  subject: Subject,
  range: { from: Date; to: Date },
  interval: Interval,
  name: string,
  format?: "csv",
): string {
  const q = new URLSearchParams({ from: range.from.toISOString(), to: range.to.toISOString(), interval });
  if (name) q.set(subject === "queues" ? "queue" : "agent", name);
  if (format) q.set("format", format);
  return `/reports/${subject}?${q.toString()}`;
}

const num = (v: number | string | null | undefined): number => (typeof v === "number" ? v : 0);

/** One point per interval, over every row of that interval (several queues or agents). */
export interface IntervalPoint {
  start: string;
  answered: number;
  abandoned: number;
  handled: number;
  /** Average seconds per handled contact, handled-weighted; null without handled contacts. */
  talk: number | null;
  hold: number | null;
  wrapUp: number | null;
}

function byStart(rows: ReportRow[]): [string, ReportRow[]][] {
  const groups = new Map<string, ReportRow[]>();
  for (const r of rows) {
    const start = String(r.interval_start);
    groups.set(start, [...(groups.get(start) ?? []), r]);
  }
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b));
}

export function seriesByInterval(rows: ReportRow[]): IntervalPoint[] {
  return byStart(rows).map(([start, group]) => {
    const sum = (c: string) => group.reduce((t, r) => t + num(r[c]), 0);
    const handled = sum("handled");
    const weighted = (c: string) =>
      handled > 0 ? group.reduce((t, r) => t + num(r[c]) * num(r.handled), 0) / handled : null;
    return {
      start,
      answered: sum("answered"),
      abandoned: sum("abandoned"),
      handled,
      talk: weighted("talk"),
      hold: weighted("hold"),
      wrapUp: weighted("wrap_up"),
    };
  });
}

/** The interval starts of the rows, in order (the charts' x axis). */
export function intervalStarts(rows: ReportRow[]): string[] {
  return byStart(rows).map(([start]) => start);
}

/** Per queue or agent (by the row's name column), one value of `column` per interval start. */
export function seriesByName(rows: ReportRow[], column: string): { name: string; values: (number | null)[] }[] {
  const starts = intervalStarts(rows);
  const names = [...new Set(rows.map((r) => String(r.queue ?? r.agent)))];
  return names.map((name) => {
    const mine = new Map(rows.filter((r) => String(r.queue ?? r.agent) === name).map((r) => [String(r.interval_start), r]));
    return {
      name,
      values: starts.map((s) => {
        const v = mine.get(s)?.[column];
        return typeof v === "number" ? v : null;
      }),
    };
  });
}

/**
 * The names to offer in the report's name filter. Who may read the queues (queues.read) or the
 * agents (agent.read) gets them listed by the API; without (QA analysts have no queues.read) the
 * choice is the queues or agents the unfiltered report itself shows, sorted.
 */
export function namesOfRows(rows: ReportRow[]): string[] {
  return [...new Set(rows.map((r) => r.queue ?? r.agent).filter((n): n is string => typeof n === "string" && n !== ""))].sort();
}

/** The strictest service-level target among the rows (the line the chart draws), 0..1. */
export function serviceLevelTarget(rows: ReportRow[]): number | null {
  const targets = rows.map((r) => r.sl_target).filter((t): t is number => typeof t === "number" && t > 0);
  return targets.length ? Math.max(...targets) : null;
}

/** Column headings of the table. */
export const columnLabels: Record<string, string> = {
  queue: "Queue",
  agent: "Agent",
  interval_start: "Interval",
  interval_end: "Until",
  offered: "Offered",
  answered: "Answered",
  answered_within_target: "In target",
  abandoned: "Abandoned",
  short_abandoned: "Short aband.",
  timed_out: "Timed out",
  overflowed: "Overflowed",
  transferred: "Transferred",
  service_level: "Service level",
  sl_target: "SL target",
  sl_threshold: "SL threshold",
  abandon_rate: "Abandon rate",
  asa: "ASA",
  handled: "Handled",
  aht: "AHT",
  talk: "Talk",
  hold: "Hold",
  wrap_up: "Wrap-up",
  offers: "Offers",
  accepted: "Accepted",
  rejected: "Rejected",
  offer_timeouts: "Missed",
  logged_in: "Logged in",
  busy: "Busy",
  available_idle: "Idle",
  not_ready_idle: "Not ready",
  occupancy: "Occupancy",
  utilisation: "Utilisation",
  fcr_contacts: "FCR n",
  fcr: "FCR",
  fcr_open: "FCR open",
  csat_answers: "CSAT n",
  csat: "CSAT",
  nps_answers: "NPS n",
  nps: "NPS",
};

const ratioColumns = new Set(["service_level", "sl_target", "abandon_rate", "occupancy", "utilisation", "fcr", "csat"]);
const secondColumns = new Set([
  "asa", "aht", "talk", "hold", "wrap_up", "sl_threshold", "logged_in", "busy", "available_idle", "not_ready_idle",
]);

/** A cell as the table shows it: ratios in %, seconds as m:ss (h:mm:ss), times local, null "–". */
export function formatCell(
  column: string,
  value: number | string | null | undefined,
  interval: Interval,
  timeZone?: string,
): string {
  if (value === null || value === undefined) return "–";
  if (column === "interval_start" || column === "interval_end") return formatIntervalStart(String(value), interval, timeZone);
  if (typeof value !== "number") return value;
  if (ratioColumns.has(column)) return `${Math.round(value * 1000) / 10}%`;
  if (secondColumns.has(column)) return clock(value);
  if (column === "nps") return String(Math.round(value));
  return String(value);
}

function clock(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const two = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

/**
 * An interval's start as its label: a time of day for sub-day intervals, else a date; in
 * `timeZone` (the site's, which the server's days follow) when given, else the browser's.
 */
export function formatIntervalStart(iso: string, interval: Interval, timeZone?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  let parts: Record<string, string>;
  try {
    const f = new Intl.DateTimeFormat("en-GB", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    parts = Object.fromEntries(f.formatToParts(d).map((p) => [p.type, p.value]));
  } catch {
    return iso;  // an unknown time zone: the raw time rather than a wrong one
  }
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  if (interval === "1mo") return date.slice(0, 7);
  if (interval === "1d" || interval === "1w") return date;
  return `${date} ${parts.hour}:${parts.minute}`;
}

/**
 * The agent's own report for the site's current day: one 1d period, the one holding `now` (the
 * server aligns days to the site's time zone, whatever the browser's).
 */
export function todayPath(agent: string, now: number): string {
  const range = { from: new Date(now - 1000), to: new Date(now) };
  return reportPath("agents", range, "1d", agent);
}
