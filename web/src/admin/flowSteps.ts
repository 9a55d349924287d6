// The Flows editor's form per step (unit-tested in test/flowSteps.test.ts): the steps of one
// flow's YAML text with their lines, each common step type's fields and exits (docs/flows.md,
// "Steps"), the form of a step as read, and writing the changed fields back into the text with
// the `yaml` Document API, so comments and the other steps stay as written.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type YAMLMap } from "yaml";
import type { LocalProblem } from "./entities";

/** How a field is edited: one line of text, with what it becomes in the document. */
export type FieldKind = "text" | "prompt" | "number" | "duration" | "map" | "flag" | "target";

export interface StepField {
  key: string;
  label: string;
  kind: FieldKind;
  hint?: string;
}

export interface StepType {
  fields: StepField[];
  /** Named exits in `exits:`; `next` when the step has one. */
  exits: string[];
  next: boolean;
}

const prompt = (key = "prompt", label = "Prompt"): StepField => ({ key, label, kind: "prompt", hint: "text to speech" });
const timeout: StepField = { key: "timeout", label: "Timeout", kind: "duration", hint: "e.g. 5s" };
const retries: StepField = { key: "retries", label: "Retries", kind: "number" };

/** The step types with a form; the others are edited in the YAML text. */
export const stepTypes: Record<string, StepType> = {
  play: { fields: [prompt()], exits: [], next: true },
  say: { fields: [{ key: "text", label: "Text", kind: "text" }, prompt()], exits: [], next: true },
  menu: {
    fields: [
      prompt(),
      { key: "options", label: "Options", kind: "map", hint: "key: step, e.g. 1: sales, 2: support" },
      timeout,
      retries,
      prompt("no_input_prompt", "No-input prompt"),
      prompt("invalid_prompt", "Invalid-input prompt"),
    ],
    exits: ["failure"],
    next: false,
  },
  collect: {
    fields: [
      prompt(),
      { key: "into", label: "Into attribute", kind: "text" },
      { key: "min_length", label: "Min length", kind: "number" },
      { key: "max_length", label: "Max length", kind: "number" },
      { key: "terminator", label: "Terminator", kind: "text", hint: "default #" },
      { key: "pattern", label: "Pattern", kind: "text" },
      timeout,
      retries,
      prompt("no_input_prompt", "No-input prompt"),
      prompt("invalid_prompt", "Invalid-input prompt"),
    ],
    exits: ["failure"],
    next: true,
  },
  queue: {
    fields: [
      { key: "queue", label: "Queue", kind: "text" },
      { key: "priority", label: "Priority", kind: "number" },
      { key: "skills", label: "Skills", kind: "map", hint: "skill: level, e.g. french: 3" },
      prompt("music", "Music"),
      { key: "announce_every", label: "Announce every", kind: "duration", hint: "e.g. 60s" },
      { key: "max_wait", label: "Max wait", kind: "duration", hint: "e.g. 10m" },
      { key: "offers", label: "Offers", kind: "map", hint: "key: voicemail or callback, e.g. 9: callback" },
    ],
    exits: ["timeout", "voicemail", "callback"],
    next: false,
  },
  transfer: { fields: [{ key: "to", label: "To", kind: "target" }], exits: [], next: false },
  voicemail: {
    fields: [
      { key: "mailbox", label: "Mailbox", kind: "text" },
      prompt(),
      { key: "max_length", label: "Max length", kind: "duration", hint: "default 2m" },
    ],
    exits: [],
    next: false,
  },
  callback: {
    fields: [
      { key: "queue", label: "Queue", kind: "text" },
      { key: "keep_position", label: "Keep position", kind: "flag", hint: "default yes" },
    ],
    exits: [],
    next: true,
  },
  hours: { fields: [{ key: "schedule", label: "Schedule", kind: "text" }], exits: ["open", "closed", "holiday"], next: false },
  call: { fields: [{ key: "flow", label: "Sub-flow", kind: "text" }], exits: [], next: true },
  hangup: { fields: [], exits: [], next: false },
  end: { fields: [], exits: [], next: false },
};

/** Where a transfer step sends the contact (docs/flows.md: exactly one). */
export const targetKinds = ["queue", "flow", "agent", "number"] as const;

export interface StepInfo {
  index: number;
  id: string;
  type: string;
  /** The step's first and last line in the flow's text (1-based). */
  from: number;
  to: number;
}

/** The form of a step: one text per field, `next` and `exit.NAME` for exits, `to.kind`/`to.value`. */
export type StepForm = Record<string, string>;

function parsed(text: string): { doc: Document; lines: LineCounter } | null {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, keepSourceTokens: false });
  return doc.errors.length || !isMap(doc.contents) ? null : { doc, lines };
}

function stepNodes(doc: Document): YAMLMap[] {
  const steps = doc.getIn(["steps"], true);
  return isSeq(steps) ? (steps.items.filter((s) => isMap(s)) as YAMLMap[]) : [];
}

/** The flow's steps with their lines; [] when the text is not a flow (its errors show on Check). */
export function stepsOf(text: string): StepInfo[] {
  const p = parsed(text);
  if (!p) return [];
  return stepNodes(p.doc).map((s, index) => {
    const [a, , b] = s.range ?? [0, 0, 0];
    // The range ends after the item's line break, if any: its last line is the one before.
    const end = Math.max(a, b > a && text[b - 1] === "\n" ? b - 1 : b);
    return { index, id: String(s.get("id") ?? ""), type: String(s.get("type") ?? ""), from: p.lines.linePos(a).line, to: p.lines.linePos(end).line };
  });
}

/** The server's problems inside a step's lines of the flow text. */
export function problemsOfStep(step: StepInfo, problems: LocalProblem[]): LocalProblem[] {
  return problems.filter((p) => p.inItem && p.line >= step.from && p.line <= step.to);
}

const mapText = (v: unknown): string =>
  v && typeof v === "object" && !Array.isArray(v) ? Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}: ${String(x)}`).join(", ") : "";

/**
 * A field's value the form cannot show as one line (a prompt with a recording or a language, a
 * list): the form leaves it alone and says to edit it in the YAML text.
 */
export function isComplex(field: StepField, v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (field.kind === "map") return typeof v !== "object" || Array.isArray(v);
  if (field.kind === "target") return typeof v !== "object" || Array.isArray(v) || Object.keys(v as object).length !== 1;
  return typeof v === "object";
}

/** The step's form as read; null when the text has no such step. */
export function stepFormOf(text: string, index: number): { type: string; form: StepForm; complex: string[] } | null {
  const p = parsed(text);
  const node = p && stepNodes(p.doc)[index];
  if (!node) return null;
  const step = node.toJSON() as Record<string, unknown>;
  const type = String(step.type ?? "");
  const spec = stepTypes[type];
  const form: StepForm = {};
  const complex: string[] = [];
  for (const f of spec?.fields ?? []) {
    const v = step[f.key];
    if (isComplex(f, v)) complex.push(f.key);
    else if (f.kind === "map") form[f.key] = mapText(v);
    else if (f.kind === "target") {
      const [kind, value] = Object.entries((v ?? {}) as Record<string, unknown>)[0] ?? ["queue", ""];
      form["to.kind"] = kind;
      form["to.value"] = String(value ?? "");
    } else form[f.key] = v === undefined || v === null ? "" : String(v);
  }
  if (spec?.next) form.next = step.next === undefined ? "" : String(step.next);
  const exits = (step.exits && typeof step.exits === "object" ? step.exits : {}) as Record<string, unknown>;
  for (const e of spec?.exits ?? []) form[`exit.${e}`] = exits[e] === undefined || exits[e] === null ? "" : String(exits[e]);
  return { type, form, complex };
}

/** "1: sales, 2: support" as a map, or the reason it is not one. */
export function parseMap(s: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  if (s.trim() === "") return out;
  for (const part of s.split(",")) {
    const m = /^\s*([^:\s][^:]*?)\s*:\s*(\S.*?)\s*$/.exec(part);
    if (!m) return `"${part.trim()}" is not KEY: VALUE`;
    if (m[1] in out) return `${m[1]} is listed twice`;
    out[m[1]] = m[2];
  }
  return out;
}

/** The field's value to write (undefined: remove the key), or the reason the text is refused. */
export function fieldValue(kind: FieldKind, s: string): { value: unknown } | { problem: string } {
  const t = s.trim();
  if (t === "") return { value: undefined };
  switch (kind) {
    case "number":
      return /^-?\d+$/.test(t) ? { value: Number(t) } : { problem: "a whole number" };
    case "duration":
      return /^\d+(\.\d+)?$/.test(t) ? { value: Number(t) } : /^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(t) ? { value: t } : { problem: "seconds or a duration such as 30s, 2m" };
    case "flag":
      return t === "true" || t === "false" ? { value: t === "true" } : { problem: "yes or no" };
    case "map": {
      const m = parseMap(t);
      return typeof m === "string" ? { problem: m } : { value: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, /^\d+$/.test(v) ? Number(v) : v])) };
    }
    default:
      return { value: t };
  }
}

/** The checks of a step's form the browser can make; a step id in an exit must exist. */
export function checkStep(type: string, form: StepForm, stepIds: string[]): Record<string, string> {
  const spec = stepTypes[type];
  const e: Record<string, string> = {};
  for (const f of spec?.fields ?? []) {
    if (f.kind === "target") {
      if (!(form["to.value"] ?? "").trim()) e.to = "where the contact goes";
      continue;
    }
    const r = fieldValue(f.kind, form[f.key] ?? "");
    if ("problem" in r) e[f.key] = r.problem;
  }
  if (type === "menu") {
    const m = parseMap(form.options ?? "");
    if (typeof m !== "string") {
      const missing = Object.values(m).find((s) => !stepIds.includes(s));
      if (missing) e.options = `no step is called ${missing}`;
    }
  }
  for (const k of [...(spec?.next ? ["next"] : []), ...(spec?.exits ?? []).map((x) => `exit.${x}`)]) {
    const v = (form[k] ?? "").trim();
    if (v && !stepIds.includes(v)) e[k] = `no step is called ${v}`;
  }
  return e;
}

/**
 * The text with the fields of step `index` that differ between `before` and `after` written
 * (an emptied field removes its key); the rest of the text is kept as it was.
 */
export function writeStep(text: string, index: number, type: string, before: StepForm, after: StepForm): string {
  const p = parsed(text);
  const node = p && stepNodes(p.doc)[index];
  const spec = stepTypes[type];
  if (!p || !node || !spec) return text;
  const { doc } = p;
  const changed = (k: string) => (before[k] ?? "") !== (after[k] ?? "");
  const put = (map: YAMLMap, key: string, value: unknown) => {
    if (value === undefined) {
      map.delete(key);
      return;
    }
    const old = map.get(key, true);
    if (isScalar(old) && typeof value !== "object") old.value = value;
    else map.set(key, doc.createNode(value, { flow: true }));
  };
  for (const f of spec.fields) {
    if (f.kind === "target") {
      if (changed("to.kind") || changed("to.value")) {
        const v = (after["to.value"] ?? "").trim();
        put(node, "to", v ? { [after["to.kind"] || "queue"]: v } : undefined);
      }
      continue;
    }
    if (!changed(f.key)) continue;
    const r = fieldValue(f.kind, after[f.key] ?? "");
    if ("value" in r) put(node, f.key, r.value);
  }
  if (spec.next && changed("next")) put(node, "next", (after.next ?? "").trim() || undefined);
  for (const x of spec.exits) {
    const k = `exit.${x}`;
    if (!changed(k)) continue;
    const v = (after[k] ?? "").trim() || undefined;
    const found: unknown = node.get("exits", true);
    let exits: YAMLMap;
    if (isMap(found)) exits = found;
    else {
      if (v === undefined) continue;
      exits = doc.createNode({}, { flow: true }) as unknown as YAMLMap;
      node.set("exits", exits);
    }
    put(exits, x, v);
  }
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
