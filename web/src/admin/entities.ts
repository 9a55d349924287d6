// The structured editors' forms (unit-tested in test/configDoc.test.ts): for each kind of item
// of the configuration (agents, teams, skills, reason and disposition codes, schedules, webhooks)
// the form's text fields from an item as read, the checks the browser can make before asking the
// server (which validates the whole document again), and the item's fields to write back
// (docs/configuration.md lists every key). `fieldsOf` is total, so the fields of the item as read
// and of the edited form are computed the same way and only what changed is written.
import type { Fields } from "./configDoc";

export const channels = ["voice", "chat", "email", "sms", "social", "callback", "task"] as const;
export const days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export const dayNames: Record<(typeof days)[number], string> = {
  mon: "Monday", tue: "Tuesday", wed: "Wednesday", thu: "Thursday", fri: "Friday", sat: "Saturday", sun: "Sunday",
};
export const maxProficiency = 5;

/** What a form may refer to: the names the document declares. */
export interface Context {
  skills: string[];
  teams: string[];
  queues: string[];
  agents: string[];
}

export type Errors = Record<string, string>;

/** One kind of item: its section, id key, and its form. */
export interface EntitySpec<F> {
  section: string;
  idKey: string;
  /** "agent", "reason code": for messages. */
  noun: string;
  empty(): F;
  formOf(item: Fields): F;
  fieldsOf(form: F): Fields;
  check(form: F, ctx: Context, ids: string[]): Errors;
}

export const text = (v: unknown): string => (v === undefined || v === null ? "" : String(v));
export const orUndefined = (s: string): string | undefined => (s.trim() === "" ? undefined : s.trim());
const isWhole = (s: string) => /^\d+$/.test(s.trim());
/** A YAML boolean read as text (the document is read with the failsafe schema). */
const truth = (v: unknown): boolean | undefined => {
  const t = String(v).toLowerCase();
  if (v === true || ["true", "yes", "on", "y"].includes(t)) return true;
  if (v === false || ["false", "no", "off", "n"].includes(t)) return false;
  return undefined;
};
/** A whole number as a number, any other text as it is (the server refuses it in its words). */
const numberOr = (s: string): number | string => (isWhole(s) ? Number(s.trim()) : s.trim());

/** Seconds or a duration text the server reads ("1m30s"). */
export function isDuration(s: string): boolean {
  const t = s.trim();
  return /^\d+(\.\d+)?$/.test(t) || /^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(t);
}
const durationValue = (s: string): number | string => (/^\d+(\.\d+)?$/.test(s.trim()) ? Number(s.trim()) : s.trim());

export function checkId(id: string, noun: string, ids: string[], original: string | null): string | undefined {
  if (id.trim() === "") return `the ${noun} needs a name`;
  if (id !== id.trim()) return "no spaces before or after the name";
  if (id !== original && ids.includes(id)) return `another ${noun} is already called ${id}`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Agents

export interface SkillRow {
  skill: string;
  level: string;
}
export interface QueueRow {
  queue: string;
  order: string;
  delay: string;
}
export interface AgentForm {
  original: string | null;
  id: string;
  name: string;
  team: string;
  skills: SkillRow[];
  capacity: Record<string, string>;
  voice_blocks_other_channels: boolean;
  wrap_up_blocks_other_channels: boolean;
  queues: QueueRow[];
}

export const agentSpec: EntitySpec<AgentForm> = {
  section: "agents",
  idKey: "id",
  noun: "agent",
  empty: () => ({
    original: null,
    id: "",
    name: "",
    team: "",
    skills: [],
    capacity: { voice: "1" },
    voice_blocks_other_channels: true,
    wrap_up_blocks_other_channels: false,
    queues: [],
  }),
  formOf(item) {
    const skills = (item.skills && typeof item.skills === "object" ? item.skills : {}) as Record<string, unknown>;
    const capacity = item.capacity && typeof item.capacity === "object" ? (item.capacity as Record<string, unknown>) : { voice: 1 };
    const queues = Array.isArray(item.queues) ? item.queues : [];
    return {
      original: text(item.id),
      id: text(item.id),
      name: item.name === undefined ? "" : text(item.name),
      team: text(item.team),
      skills: Object.entries(skills).map(([skill, level]) => ({ skill, level: text(level) })),
      capacity: Object.fromEntries(Object.entries(capacity).map(([c, n]) => [c, text(n)])),
      voice_blocks_other_channels: truth(item.voice_blocks_other_channels) !== false,
      wrap_up_blocks_other_channels: truth(item.wrap_up_blocks_other_channels) === true,
      queues: queues.map((q) =>
        q && typeof q === "object"
          ? { queue: text((q as Fields).queue), order: text((q as Fields).order), delay: text((q as Fields).delay) }
          : { queue: text(q), order: "", delay: "" },
      ),
    };
  },
  fieldsOf(f) {
    const skills = Object.fromEntries(f.skills.map((s) => [s.skill.trim(), numberOr(s.level)]));
    const capacity = Object.fromEntries(
      Object.entries(f.capacity).filter(([, n]) => n.trim() !== "").map(([c, n]) => [c, numberOr(n)]),
    );
    const defaultCapacity = JSON.stringify(capacity) === JSON.stringify({ voice: 1 });
    const queues = f.queues.map((q) => {
      if (q.order.trim() === "" && q.delay.trim() === "") return q.queue.trim();
      const m: Fields = { queue: q.queue.trim() };
      if (q.order.trim() !== "") m.order = numberOr(q.order);
      if (q.delay.trim() !== "") m.delay = durationValue(q.delay);
      return m;
    });
    return {
      id: f.id,
      name: f.name.trim() === "" || f.name.trim() === f.id ? undefined : f.name.trim(),
      team: orUndefined(f.team),
      skills: f.skills.length ? skills : undefined,
      capacity: defaultCapacity ? undefined : capacity,
      voice_blocks_other_channels: f.voice_blocks_other_channels ? undefined : false,
      wrap_up_blocks_other_channels: f.wrap_up_blocks_other_channels ? true : undefined,
      queues: queues.length ? queues : undefined,
    };
  },
  check(f, ctx, ids) {
    const e: Errors = {};
    const id = checkId(f.id, "agent", ids, f.original);
    if (id) e.id = id;
    if (f.team && !ctx.teams.includes(f.team)) e.team = `no team is called ${f.team}`;
    const seen = new Set<string>();
    for (const s of f.skills) {
      const level = s.level.trim();
      if (!s.skill) e.skills = "choose a skill for each row";
      else if (!ctx.skills.includes(s.skill)) e.skills = `${s.skill} is not a declared skill`;
      else if (seen.has(s.skill)) e.skills = `${s.skill} is listed twice`;
      else if (!isWhole(level) || Number(level) < 1 || Number(level) > maxProficiency)
        e.skills = `the proficiency in ${s.skill} is a whole number from 1 to ${maxProficiency}`;
      seen.add(s.skill);
    }
    for (const [c, n] of Object.entries(f.capacity)) {
      if (n.trim() !== "" && (!isWhole(n) || Number(n) > 50)) e.capacity = `${c}: a whole number from 0 to 50`;
    }
    const queues = new Set<string>();
    for (const q of f.queues) {
      if (!q.queue) e.queues = "choose a queue for each row";
      else if (!ctx.queues.includes(q.queue)) e.queues = `no queue is called ${q.queue}`;
      else if (queues.has(q.queue)) e.queues = `${q.queue} is listed twice`;
      else if (q.order.trim() !== "" && (!isWhole(q.order) || Number(q.order) > 65535))
        e.queues = `the order of ${q.queue} is a whole number from 0 to 65535`;
      else if (q.delay.trim() !== "" && !isDuration(q.delay))
        e.queues = `the delay of ${q.queue} is seconds or a duration such as 30s, 1m`;
      queues.add(q.queue);
    }
    return e;
  },
};

// ---------------------------------------------------------------------------------------------
// Teams, skills, reason and disposition codes: an id and one text.

export interface PairForm {
  original: string | null;
  id: string;
  text: string;
}

function pairSpec(section: string, idKey: string, textKey: string, noun: string, checkCode: boolean): EntitySpec<PairForm> {
  return {
    section,
    idKey,
    noun,
    empty: () => ({ original: null, id: "", text: "" }),
    formOf: (item) => ({ original: text(item[idKey]), id: text(item[idKey]), text: text(item[textKey]) }),
    fieldsOf: (f) => ({
      [idKey]: f.id,
      // A label equal to the code says nothing more: the code alone is written.
      [textKey]: f.text.trim() === "" || (checkCode && f.text.trim() === f.id) ? undefined : f.text.trim(),
    }),
    check(f, _ctx, ids) {
      const e: Errors = {};
      const id = checkId(f.id, noun, ids, f.original);
      if (id) e.id = id;
      else if (checkCode && !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(f.id))
        e.id = "1-64 characters a-z, 0-9, '.', '_', '-', starting with a letter or digit";
      return e;
    },
  };
}

export const teamSpec = pairSpec("teams", "name", "lead", "team", false);
export const skillSpec = pairSpec("skills", "name", "description", "skill", false);
export const reasonSpec = pairSpec("reason_codes", "code", "label", "reason code", true);
export const dispositionSpec = pairSpec("disposition_codes", "code", "label", "disposition code", true);

// ---------------------------------------------------------------------------------------------
// Opening hours

export interface Range {
  from: number; // minutes after midnight
  to: number;
}

/** "closed" (or blank) is []; "08:00-12:00, 14:00-18:00" the ranges; anything else an error text. */
export function parseHours(s: string): Range[] | string {
  const t = s.trim();
  if (t === "" || t === "closed") return [];
  const minute = (hm: string): number => {
    const m = /^(\d{1,2}):(\d{2})$/.exec(hm.trim());
    if (!m) return -1;
    const h = Number(m[1]);
    const min = Number(m[2]);
    if (min > 59 || h > 24 || (h === 24 && min !== 0)) return -1;
    return h * 60 + min;
  };
  const out: Range[] = [];
  for (const part of t.split(",")) {
    const [a, b, extra] = part.split("-");
    const from = a === undefined ? -1 : minute(a);
    const to = b === undefined || extra !== undefined ? -1 : minute(b);
    if (from < 0 || to < 0) return `"${part.trim()}" is not a range such as 08:00-12:00`;
    if (to <= from) return `"${part.trim()}" ends before it starts`;
    if (out.length && from < out[out.length - 1].to) return `"${part.trim()}" overlaps the range before it`;
    out.push({ from, to });
  }
  return out;
}

/** The ranges as the configuration writes them ("closed" for none). */
export function formatHours(ranges: Range[]): string {
  if (ranges.length === 0) return "closed";
  const hm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
  return ranges.map((r) => `${hm(r.from)}-${hm(r.to)}`).join(", ");
}

/** The hours of each day from a `weekly` map whose keys are days or ranges such as mon-fri. */
export function weekFrom(weekly: unknown): Record<string, string> {
  const week: Record<string, string> = Object.fromEntries(days.map((d) => [d, "closed"]));
  if (!weekly || typeof weekly !== "object") return week;
  for (const [key, hours] of Object.entries(weekly as Record<string, unknown>)) {
    const [a, b] = key.split("-");
    const from = days.indexOf(a as (typeof days)[number]);
    const to = b === undefined ? from : days.indexOf(b as (typeof days)[number]);
    if (from < 0 || to < from) continue;
    for (let d = from; d <= to; d++) week[days[d]] = text(hours);
  }
  return week;
}

/** The `weekly` map of the days' hours: consecutive days with the same hours as one range. */
export function weeklyOf(week: Record<string, string>): Record<string, string> {
  const norm = (s: string) => {
    const r = parseHours(s ?? "");
    return typeof r === "string" ? s.trim() : formatHours(r);
  };
  const out: Record<string, string> = {};
  let start = 0;
  for (let d = 1; d <= days.length; d++) {
    if (d < days.length && norm(week[days[d]]) === norm(week[days[start]])) continue;
    const key = d - 1 === start ? days[start] : `${days[start]}-${days[d - 1]}`;
    out[key] = norm(week[days[start]]);
    start = d;
  }
  return out;
}

export interface ExceptionRow {
  date: string;
  name: string;
  hours: string; // "" = closed all day (a holiday)
}
export interface ScheduleForm {
  original: string | null;
  name: string;
  time_zone: string;
  week: Record<string, string>;
  exceptions: ExceptionRow[];
}

function validDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s.trim());
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

export const scheduleSpec: EntitySpec<ScheduleForm> = {
  section: "schedules",
  idKey: "name",
  noun: "schedule",
  empty: () => ({
    original: null,
    name: "",
    time_zone: "",
    week: { ...weekFrom({ "mon-fri": "09:00-17:00" }) },
    exceptions: [],
  }),
  formOf: (item) => ({
    original: text(item.name),
    name: text(item.name),
    time_zone: text(item.time_zone),
    week: weekFrom(item.weekly),
    exceptions: (Array.isArray(item.exceptions) ? item.exceptions : []).map((x: Fields) => ({
      date: text(x.date),
      name: text(x.name),
      hours: text(x.hours),
    })),
  }),
  fieldsOf(f) {
    const weekly = weeklyOf(f.week);
    return {
      name: f.name,
      time_zone: f.time_zone.trim(),
      weekly: Object.values(weekly).every((h) => h === "closed") ? undefined : weekly,
      exceptions: f.exceptions.length
        ? f.exceptions.map((x) => {
            const row: Fields = { date: x.date.trim() };
            if (x.name.trim()) row.name = x.name.trim();
            const h = parseHours(x.hours);
            if (x.hours.trim() && x.hours.trim() !== "closed") row.hours = typeof h === "string" ? x.hours.trim() : formatHours(h);
            return row;
          })
        : undefined,
    };
  },
  check(f, _ctx, ids) {
    const e: Errors = {};
    const id = checkId(f.name, "schedule", ids, f.original);
    if (id) e.name = id;
    if (f.time_zone.trim() === "") e.time_zone = "a time zone of the tz database, e.g. Europe/Paris";
    for (const d of days) {
      const r = parseHours(f.week[d] ?? "");
      if (typeof r === "string") e[`week.${d}`] = r;
    }
    const dates = new Set<string>();
    f.exceptions.forEach((x, i) => {
      const h = parseHours(x.hours);
      if (!validDate(x.date)) e.exceptions = `date ${i + 1}: a date such as 2025-12-25`;
      else if (dates.has(x.date.trim())) e.exceptions = `${x.date.trim()} is listed twice`;
      else if (typeof h === "string") e.exceptions = `${x.date.trim()}: ${h}`;
      dates.add(x.date.trim());
    });
    return e;
  },
};

// ---------------------------------------------------------------------------------------------
// Webhooks and retention

export interface WebhookForm {
  original: string | null;
  name: string;
  url: string;
  events: string; // "contact.queued, wrap_up.ended"; "" = every type
  secret_env: string;
}

export const webhookSpec: EntitySpec<WebhookForm> = {
  section: "webhooks",
  idKey: "name",
  noun: "webhook",
  empty: () => ({ original: null, name: "", url: "https://", events: "", secret_env: "" }),
  formOf: (item) => ({
    original: text(item.name),
    name: text(item.name),
    url: text(item.url),
    events: Array.isArray(item.events) ? item.events.map(text).join(", ") : text(item.events),
    secret_env: text(item.secret_env),
  }),
  fieldsOf(f) {
    const events = f.events.split(/[,\s]+/).filter(Boolean);
    return {
      name: f.name,
      url: f.url.trim(),
      events: events.length ? events : undefined,
      secret_env: orUndefined(f.secret_env),
    };
  },
  check(f, _ctx, ids) {
    const e: Errors = {};
    const id = checkId(f.name, "webhook", ids, f.original);
    if (id) e.name = id;
    if (!/^https?:\/\/[^\s/]+\S*$/.test(f.url.trim())) e.url = "a URL starting with http:// or https://";
    if (f.events.split(/[,\s]+/).some((t) => t && !/^[a-z_]+(\.[a-z_]+)+$/.test(t)))
      e.events = "event types as the event stream spells them, e.g. contact.queued, wrap_up.ended";
    if (f.secret_env.trim() && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(f.secret_env.trim()))
      e.secret_env = "the name of an environment variable, e.g. PARLEY_WEBHOOK_SECRET";
    return e;
  },
};

export const retentionKeys = ["contacts", "events", "audit", "recordings"] as const;
export type RetentionForm = Record<(typeof retentionKeys)[number], string>;

export function retentionFormOf(section: unknown): RetentionForm {
  const r = (section && typeof section === "object" ? section : {}) as Fields;
  return Object.fromEntries(retentionKeys.map((k) => [k, text(r[k])])) as RetentionForm;
}

/** Blank (or 0) keeps that data forever: the key is left out. */
export function retentionFieldsOf(f: RetentionForm): Fields {
  return Object.fromEntries(retentionKeys.map((k) => [k, f[k].trim() === "" ? undefined : durationValue(f[k])]));
}

export function checkRetention(f: RetentionForm): Errors {
  const e: Errors = {};
  for (const k of retentionKeys) {
    if (f[k].trim() !== "" && !isDuration(f[k])) e[k] = "a duration such as 90d or 400d (blank keeps forever)";
  }
  return e;
}

/** The names a form may refer to, from the document's sections. */
export function contextOf(items: (section: string, idKey: string) => Fields[]): Context {
  return {
    skills: items("skills", "name").map((i) => text(i.name)),
    teams: items("teams", "name").map((i) => text(i.name)),
    queues: items("queues", "name").map((i) => text(i.name)),
    agents: items("agents", "id").map((i) => text(i.id)),
  };
}

// ---------------------------------------------------------------------------------------------
// Flows: edited as the YAML text of one flow (docs/flows.md lists the steps)

export const newFlowText = `name: new-flow
description: What the flow does
steps:
  - {id: hello, type: say, text: "Hello.", next: bye}
  - {id: bye, type: hangup}
`;

export interface LocalProblem {
  /** The line in the flow's text, or in the whole document when `inItem` is false. */
  line: number;
  column: number;
  message: string;
  inItem: boolean;
}

/** The lines a text takes in the document: its trailing newlines are not lines of their own. */
export function textLines(text: string): number {
  return text.replace(/\n+$/, "").split("\n").length;
}

/**
 * The server's problems (lines of the whole document sent) with lines of the item's own text
 * where they fall inside it: the item starts at document line `start` and has `count` lines.
 */
export function problemsIn(problems: { line: number; column: number; message: string }[], start: number, count: number): LocalProblem[] {
  return problems.map((p) => {
    const inItem = start > 0 && p.line >= start && p.line < start + count;
    return { line: inItem ? p.line - start + 1 : p.line, column: p.column, message: p.message, inItem };
  });
}
