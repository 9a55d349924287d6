// The queue editor's state as pure functions (unit-tested in test/admin.test.ts): the form's
// text fields from the server's settings, the checks made before sending, the request body with
// only the changed fields, and the server's problems placed next to their fields.
import type { ConfigProblem, EscalationStep, QueueSettings } from "./types";

export const strategies = [
  "longest-idle",
  "least-occupied",
  "fewest-contacts",
  "round-robin",
  "linear",
  "random",
  "best-skill",
  "ring-all",
];

/** One escalation step as the form edits it: text fields. */
export interface StepForm {
  after: string;
  priority_boost: string;
  skills: string; // "sales:2, support:1"; "" = unchanged
  teams: string; // "north, south"; "" = unchanged
  overflow: string;
  flow: string;
}

export interface QueueForm {
  strategy: string;
  sl_target_percent: string;
  sl_seconds: string;
  priority: string;
  max_wait: string;
  max_size: string;
  offer_timeout: string;
  wrap_up: string;
  escalation: StepForm[];
}

/** The form's field names, which the server's `field` of a problem maps onto. */
export type FormField = "strategy" | "service_level" | "priority" | "max_wait" | "max_size" | "offer_timeout" | "wrap_up" | "escalation";

const num = (n: number) => String(Math.round(n * 1000) / 1000);

function skillsText(skills?: Record<string, number>): string {
  return skills ? Object.entries(skills).map(([k, v]) => `${k}:${v}`).join(", ") : "";
}

export function formFrom(s: QueueSettings): QueueForm {
  return {
    strategy: s.strategy,
    sl_target_percent: num(s.service_level.target * 100),
    sl_seconds: num(s.service_level.seconds),
    priority: String(s.priority),
    max_wait: num(s.max_wait),
    max_size: String(s.max_size),
    offer_timeout: num(s.offer_timeout),
    wrap_up: num(s.wrap_up),
    escalation: s.escalation.map((e) => ({
      after: num(typeof e.after === "number" ? e.after : Number(e.after)),
      priority_boost: String(e.priority_boost ?? 0),
      skills: skillsText(e.skills),
      teams: e.teams ? e.teams.join(", ") : "",
      overflow: e.overflow ?? "",
      flow: e.flow ?? "",
    })),
  };
}

export function emptyStep(): StepForm {
  return { after: "60", priority_boost: "0", skills: "", teams: "", overflow: "", flow: "" };
}

/** Seconds as a number, or a duration text the server reads ("1m30s"); null when neither. */
function duration(text: string): number | string | null {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  if (/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(t)) return t;
  return null;
}

function parseSkills(text: string): Record<string, number> | null {
  const out: Record<string, number> = {};
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const m = /^([^:\s]+)\s*:\s*(\d+)$/.exec(part);
    if (!m) return null;
    out[m[1]] = Number(m[2]);
  }
  return out;
}

export interface Built {
  body: Record<string, unknown>;
  errors: Partial<Record<FormField, string>>;
}

/**
 * The PUT body for the fields that differ from `original`, with `version`; or the fields the
 * browser can already tell are wrong (the server checks everything again).
 */
export function buildEdit(form: QueueForm, original: QueueForm, version: number): Built {
  const errors: Partial<Record<FormField, string>> = {};
  const body: Record<string, unknown> = { version };
  if (form.strategy !== original.strategy) body.strategy = form.strategy;
  if (form.sl_target_percent !== original.sl_target_percent || form.sl_seconds !== original.sl_seconds) {
    const pct = Number(form.sl_target_percent);
    const secs = duration(form.sl_seconds);
    if (!form.sl_target_percent.trim() || !Number.isFinite(pct)) errors.service_level = "the target is a percentage, e.g. 80";
    else if (secs === null) errors.service_level = "the threshold is seconds or a duration such as 20s";
    else body.service_level = { target: pct / 100, seconds: secs };
  }
  for (const key of ["priority", "max_size"] as const) {
    if (form[key] === original[key]) continue;
    if (!/^-?\d+$/.test(form[key].trim())) errors[key] = "a whole number";
    else body[key] = Number(form[key]);
  }
  for (const key of ["max_wait", "offer_timeout", "wrap_up"] as const) {
    if (form[key] === original[key]) continue;
    const d = duration(form[key]);
    if (d === null) errors[key] = "seconds or a duration such as 20s, 5m";
    else body[key] = d;
  }
  if (JSON.stringify(form.escalation) !== JSON.stringify(original.escalation)) {
    const steps: EscalationStep[] = [];
    form.escalation.forEach((s, i) => {
      const after = duration(s.after);
      const skills = parseSkills(s.skills);
      if (after === null) errors.escalation = `step ${i + 1}: "after" is seconds or a duration`;
      else if (skills === null) errors.escalation = `step ${i + 1}: skills are written skill:level, e.g. sales:2`;
      else if (!/^-?\d+$/.test(s.priority_boost.trim() || "0")) errors.escalation = `step ${i + 1}: the priority boost is a whole number`;
      if (after === null || skills === null) return;
      const step: EscalationStep = { after, priority_boost: Number(s.priority_boost || 0) };
      if (s.skills.trim()) step.skills = skills;
      if (s.teams.trim()) step.teams = s.teams.split(",").map((t) => t.trim()).filter(Boolean);
      if (s.overflow.trim()) step.overflow = s.overflow.trim();
      if (s.flow.trim()) step.flow = s.flow.trim();
      steps.push(step);
    });
    body.escalation = steps;
  }
  return { body, errors };
}

/** Whether the body changes anything (more than the version). */
export function changesSomething(b: Built): boolean {
  return Object.keys(b.body).length > 1;
}

/**
 * The server's problems by form field; problems without a field (or with one the form does not
 * show) are listed under "" so the editor shows them above the form.
 */
export function problemsByField(problems: ConfigProblem[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const known = new Set(["strategy", "service_level", "priority", "max_wait", "max_size", "offer_timeout", "wrap_up", "escalation"]);
  for (const p of problems) {
    const key = p.field && known.has(p.field) ? p.field : "";
    (out[key] ??= []).push(p.message);
  }
  return out;
}
