// The Staffing screen's logic (unit-tested in test/staffing.test.ts): the form's fields to the
// body of POST /api/v1/staffing (docs/staffing.md, "From the browser"), what the browser can tell
// is wrong before asking, which field a server message names, and the answer's table and curve.

export type Model = "erlang_c" | "erlang_a" | "erlang_b";
export type Mode = "interval" | "forecast";

/** The form as typed: every input a string ("" = not given). Percentages are in %. */
export interface StaffingForm {
  mode: Mode;
  model: Model;
  calls: string;
  interval_seconds: string;
  aht: string;
  target_sl_percent: string;
  target_seconds: string;
  target_asa: string;
  max_occupancy_percent: string;
  shrinkage_percent: string;
  patience: string;
  agents: string;
  lines: string;
  target_blocking_percent: string;
  forecast: string;
}

export const defaultForm: StaffingForm = {
  mode: "interval",
  model: "erlang_c",
  calls: "360",
  interval_seconds: "1800",
  aht: "240",
  target_sl_percent: "80",
  target_seconds: "20",
  target_asa: "",
  max_occupancy_percent: "",
  shrinkage_percent: "30",
  patience: "120",
  agents: "",
  lines: "",
  target_blocking_percent: "1",
  forecast: "interval_start,contacts,aht_seconds\n08:00,120,240\n08:30,360,240\n09:00,420,250\n",
};

export type FormField = Exclude<keyof StaffingForm, "mode" | "model">;

/** The API field each form field fills (percentages become fractions). */
const apiField: Record<FormField, string> = {
  calls: "calls",
  interval_seconds: "interval_seconds",
  aht: "aht",
  target_sl_percent: "target_sl",
  target_seconds: "target_seconds",
  target_asa: "target_asa",
  max_occupancy_percent: "max_occupancy",
  shrinkage_percent: "shrinkage",
  patience: "patience",
  agents: "agents",
  lines: "lines",
  target_blocking_percent: "target_blocking",
  forecast: "forecast",
};

export const fieldLabels: Record<FormField, string> = {
  calls: "Contacts in the interval",
  interval_seconds: "Interval (s)",
  aht: "AHT (s)",
  target_sl_percent: "Service level (%)",
  target_seconds: "answered within (s)",
  target_asa: "ASA target (s)",
  max_occupancy_percent: "Max occupancy (%)",
  shrinkage_percent: "Shrinkage (%)",
  patience: "Mean patience (s)",
  agents: "Evaluate agents",
  lines: "Evaluate lines",
  target_blocking_percent: "Blocking target (%)",
  forecast: "Forecast (CSV)",
};

/** The inputs each model and mode uses, in the form's order. */
export function formFields(mode: Mode, model: Model): FormField[] {
  const traffic: FormField[] = mode === "forecast" ? ["forecast", "interval_seconds"] : ["calls", "interval_seconds", "aht"];
  if (model === "erlang_b") return ["calls", "interval_seconds", "aht", "target_blocking_percent", "lines"];
  const targets: FormField[] = ["target_sl_percent", "target_seconds", "target_asa", "max_occupancy_percent", "shrinkage_percent"];
  const abandon: FormField[] = model === "erlang_a" ? ["patience"] : [];
  return [...traffic, ...targets, ...abandon, ...(mode === "interval" ? (["agents"] as FormField[]) : [])];
}

const percentFields = new Set<FormField>(["target_sl_percent", "max_occupancy_percent", "shrinkage_percent", "target_blocking_percent"]);
const integerFields = new Set<FormField>(["agents", "lines"]);

export type BodyOrProblem = { body: Record<string, unknown> } | { field: FormField; message: string };

/**
 * The request body for the fields the chosen model and mode use; empty fields are left out (the
 * server says which are missing). A value that is not a number (or not a whole number of agents or
 * lines) is refused before asking, naming its field.
 */
export function staffingBody(form: StaffingForm): BodyOrProblem {
  const body: Record<string, unknown> = {};
  const mode = form.model === "erlang_b" ? "interval" : form.mode;
  for (const f of formFields(mode, form.model)) {
    const text = form[f].trim();
    if (text === "") continue;
    if (f === "forecast") {
      body.forecast = form.forecast;
      continue;
    }
    const n = Number(text);
    if (!Number.isFinite(n)) return { field: f, message: `${fieldLabels[f]}: '${text}' is not a number` };
    if (integerFields.has(f) && !Number.isInteger(n)) {
      return { field: f, message: `${fieldLabels[f]}: '${text}' is not a whole number` };
    }
    body[apiField[f]] = percentFields.has(f) ? Math.round(n * 1e6) / 1e8 : n;
  }
  if (form.model === "erlang_b") body.erlang_b = true;
  return { body };
}

/** The form field a server message is about ("target_sl must be ...", "body.calls must ...", "forecast: line 3 ..."). */
export function fieldOfMessage(message: string): FormField | null {
  const m = /^(?:body\.)?([a-z_]+)/.exec(message);
  if (!m) return null;
  const entry = (Object.entries(apiField) as [FormField, string][]).find(([, api]) => api === m[1]);
  return entry ? entry[0] : null;
}

/** One staffing's performance (the answer's `table` rows, and the plan itself). */
export interface StaffingRow {
  agents: number;
  service_level: number;
  probability_of_waiting: number;
  asa_seconds: number | null;
  occupancy: number;
  stable: boolean;
  probability_of_abandon?: number;
}

export interface StaffingPlan extends Partial<StaffingRow> {
  model: Model;
  offered_load_erlangs: number;
  scheduled_agents?: number;
  shrinkage?: number;
  target_seconds?: number;
  mean_wait_all_seconds?: number | null;
  lines?: number;
  blocking?: number;
  target_blocking?: number;
  table?: StaffingRow[];
  // Forecast rows also carry their interval.
  interval_start?: string;
  contacts?: number;
  aht_seconds?: number;
}

/** The rows of N and its neighbours (N-2 .. N+2) for the table. */
export function neighbourRows(plan: StaffingPlan, around = 2): StaffingRow[] {
  const n = plan.agents ?? 0;
  return (plan.table ?? []).filter((r) => Math.abs(r.agents - n) <= around);
}

/** [agents, service level in %] for the chart, over the whole table. */
export function serviceLevelCurve(plan: StaffingPlan): [number, number][] {
  return (plan.table ?? []).map((r) => [r.agents, Math.round(r.service_level * 1000) / 10]);
}
