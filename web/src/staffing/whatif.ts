// The what-if simulation on the Staffing screen (unit-tested in test/whatif.test.ts): the form to
// the body of POST /api/v1/simulations (docs/simulation.md, "From the API"), and the answer (the
// document of `parley simulate --json`) to the rows and the curve the screen shows.

export interface WhatIfForm {
  scenario: string;
  replications: string;
  sets: string; // one PATH=VALUE per line
  sweep: string; // PATH=FROM:TO:STEP or ""
}

/** A self-contained scenario the planner edits: one queue, eight agents, two hours of calls. */
export const exampleScenario = `scenario: {name: what-if, seed: 3, duration: 2h, interval: 30m}
skills: [s]
queues:
  - {name: q, channels: [voice], skills: {s: 1}, service_level: {target: 0.8, seconds: 20}}
groups:
  - {name: a, agents: 8, skills: {s: 1}, queues: [q]}
traffic:
  - {queue: q, arrivals: {per_hour: 100}, handle_time: "exp:240", patience: "exp:120"}
`;

export const defaultWhatIf: WhatIfForm = {
  scenario: exampleScenario,
  replications: "1",
  sets: "",
  sweep: "groups.a.agents=6:12:1",
};

export interface SimulationBody {
  scenario: string;
  replications?: number;
  set?: string[];
  sweep?: string;
}

/** The request body, or what is wrong before asking. */
export function simulationBody(f: WhatIfForm): { body: SimulationBody } | { message: string } {
  if (!f.scenario.trim()) return { message: "The scenario is empty." };
  const body: SimulationBody = { scenario: f.scenario };
  const reps = f.replications.trim();
  if (reps) {
    if (!/^\d+$/.test(reps) || Number(reps) < 1 || Number(reps) > 10) {
      return { message: `Replications: '${reps}' is not a whole number from 1 to 10` };
    }
    if (Number(reps) !== 1) body.replications = Number(reps);
  }
  const sets = f.sets
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l);
  for (const s of sets) {
    if (!/^[^=\s]+=.+$/.test(s)) return { message: `What-if '${s}': expected PATH=VALUE` };
  }
  if (sets.length) body.set = sets;
  const sweep = f.sweep.trim();
  if (sweep) {
    if (!/^[^=\s]+=[-\d.]+:[-\d.]+:[-\d.]+$/.test(sweep)) return { message: `Sweep '${sweep}': expected PATH=FROM:TO:STEP` };
    body.sweep = sweep;
  }
  return { body };
}

/** A KPI: a number with one replication, {mean, ci95, n} with several, null when undefined. */
export type Figure = number | { mean: number; ci95: number; n: number } | null;
export type KpiRow = Record<string, Figure>;

export interface SimulationResult {
  scenario?: string;
  contacts?: number;
  overall?: KpiRow;
  queues?: Record<string, KpiRow>;
  failures?: string[];
  sweep?: string;
  runs?: { value: string; overall: KpiRow; failures: string[] }[];
}

export function figure(v: Figure | undefined): number | null {
  if (v === null || v === undefined) return null;
  return typeof v === "number" ? v : v.mean;
}

/** The KPIs the screen shows, in order, with how to print them. */
export const shownKpis: { key: string; label: string; kind: "percent" | "seconds" | "count" }[] = [
  { key: "offered", label: "Offered", kind: "count" },
  { key: "answered", label: "Answered", kind: "count" },
  { key: "service_level", label: "Service level", kind: "percent" },
  { key: "asa", label: "ASA (s)", kind: "seconds" },
  { key: "abandon_rate", label: "Abandoned", kind: "percent" },
  { key: "occupancy", label: "Occupancy", kind: "percent" },
];

export function formatFigure(v: Figure | undefined, kind: "percent" | "seconds" | "count"): string {
  const x = figure(v);
  if (x === null || !Number.isFinite(x)) return "–";
  const half = v !== null && v !== undefined && typeof v === "object" ? v.ci95 : null;
  const show = (n: number) => (kind === "percent" ? `${(n * 100).toFixed(1)}%` : kind === "seconds" ? n.toFixed(1) : n.toFixed(0));
  return half === null ? show(x) : `${show(x)} ± ${show(half)}`;
}

/** One row per line of the answer: the overall and each queue, or each swept value. */
export function resultRows(r: SimulationResult): { name: string; kpis: KpiRow; failures: string[] }[] {
  if (r.runs) return r.runs.map((run) => ({ name: `${r.sweep?.split("=")[0] ?? "value"} = ${run.value}`, kpis: run.overall, failures: run.failures }));
  const rows = [{ name: "overall", kpis: r.overall ?? {}, failures: r.failures ?? [] }];
  for (const [q, kpis] of Object.entries(r.queues ?? {})) rows.push({ name: `queue ${q}`, kpis, failures: [] });
  return rows;
}

/** A sweep's curve: service level (%) against the swept value; null without a sweep. */
export function sweepCurve(r: SimulationResult): { x: number; sl: number | null; abandon: number | null }[] | null {
  if (!r.runs) return null;
  return r.runs.map((run) => {
    const sl = figure(run.overall.service_level);
    const ab = figure(run.overall.abandon_rate);
    return { x: Number(run.value), sl: sl === null ? null : sl * 100, abandon: ab === null ? null : ab * 100 };
  });
}
