// Staffing and what-if for planners (staffing.plan; docs/staffing.md, "From the browser"): the
// inputs of `parley staff`, POST /api/v1/staffing, then the plan, the table of N and its
// neighbours and the service level against agents as a chart; or one row per forecast interval.
import { useMemo, useState, type FormEvent } from "react";
import { ApiError, call } from "../api";
import {
  defaultForm,
  fieldLabels,
  fieldOfMessage,
  formFields,
  neighbourRows,
  serviceLevelCurve,
  staffingBody,
  type FormField,
  type StaffingForm,
  type StaffingPlan,
} from "../staffing/model";
import { EChart } from "./ReportsCharts";
import {
  defaultWhatIf,
  formatFigure,
  resultRows,
  shownKpis,
  simulationBody,
  sweepCurve,
  type SimulationResult,
  type WhatIfForm,
} from "../staffing/whatif";

/** "81.7%": staffing tables show one decimal, as `parley staff` does. */
const formatPercent = (v: number | null | undefined) =>
  v === null || v === undefined || !Number.isFinite(v) ? "–" : `${(v * 100).toFixed(1)}%`;
const seconds = (v: number | null | undefined) => (v === null || v === undefined ? "∞" : v.toFixed(1));

function PlanSummary({ plan }: { plan: StaffingPlan }) {
  if (plan.model === "erlang_b") {
    return (
      <p data-testid="staffing-summary">
        <strong>{plan.lines} lines</strong>: blocking {formatPercent(plan.blocking)} at {plan.offered_load_erlangs.toFixed(3)} Erlangs
      </p>
    );
  }
  return (
    <p data-testid="staffing-summary">
      <strong>{plan.agents} agents</strong> ({plan.scheduled_agents} scheduled with {formatPercent(plan.shrinkage)} shrinkage) for{" "}
      {plan.offered_load_erlangs.toFixed(3)} Erlangs ({plan.model === "erlang_a" ? "Erlang A" : "Erlang C"}): service level{" "}
      {formatPercent(plan.service_level)} in {plan.target_seconds} s, ASA {seconds(plan.asa_seconds)} s, occupancy {formatPercent(plan.occupancy)}
      {plan.probability_of_abandon !== undefined && <>, abandoned {formatPercent(plan.probability_of_abandon)}</>}
      {plan.stable === false && <span className="error"> — the queue grows without bound</span>}
    </p>
  );
}

function NeighbourTable({ plan }: { plan: StaffingPlan }) {
  const rows = neighbourRows(plan);
  const abandon = plan.model === "erlang_a";
  return (
    <table className="grid" data-testid="staffing-table">
      <thead>
        <tr>
          <th scope="col">Agents</th>
          <th scope="col">SL ({plan.target_seconds} s)</th>
          <th scope="col">P(wait)</th>
          <th scope="col">ASA (s)</th>
          <th scope="col">Occupancy</th>
          {abandon && <th scope="col">P(abandon)</th>}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.agents} className={r.agents === plan.agents ? "chosen" : undefined} aria-current={r.agents === plan.agents ? "true" : undefined}>
            <th scope="row">{r.agents}</th>
            <td className="num">{formatPercent(r.service_level)}</td>
            <td className="num">{formatPercent(r.probability_of_waiting)}</td>
            <td className="num">{seconds(r.asa_seconds)}</td>
            <td className="num">{formatPercent(r.occupancy)}</td>
            {abandon && <td className="num">{formatPercent(r.probability_of_abandon)}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ForecastTable({ rows }: { rows: StaffingPlan[] }) {
  return (
    <table className="grid" data-testid="staffing-forecast">
      <thead>
        <tr>
          <th scope="col">Interval</th>
          <th scope="col">Contacts</th>
          <th scope="col">AHT (s)</th>
          <th scope="col">Erlangs</th>
          <th scope="col">Agents</th>
          <th scope="col">Scheduled</th>
          <th scope="col">SL</th>
          <th scope="col">ASA (s)</th>
          <th scope="col">Occupancy</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.interval_start}>
            <th scope="row">{r.interval_start}</th>
            <td className="num">{r.contacts}</td>
            <td className="num">{r.aht_seconds}</td>
            <td className="num">{r.offered_load_erlangs.toFixed(3)}</td>
            <td className="num">{r.agents}</td>
            <td className="num">{r.scheduled_agents}</td>
            <td className="num">{formatPercent(r.service_level)}</td>
            <td className="num">{seconds(r.asa_seconds)}</td>
            <td className="num">{formatPercent(r.occupancy)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const chartBase = {
  backgroundColor: "transparent",
  animation: false,
  tooltip: { trigger: "axis" },
  legend: { top: 0 },
  grid: { left: 48, right: 24, top: 36, bottom: 36 },
};

/** What-if: a scenario run by the simulator over the real routing code (POST /api/v1/simulations). */
function WhatIf() {
  const [form, setForm] = useState<WhatIfForm>(defaultWhatIf);
  const [problem, setProblem] = useState<string | null>(null);
  const [result, setResult] = useState<SimulationResult | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setProblem(null);
    const built = simulationBody(form);
    if ("message" in built) {
      setProblem(built.message);
      return;
    }
    setBusy(true);
    try {
      setResult(await call<SimulationResult>("POST", "/simulations", built.body));
    } catch (err) {
      setProblem(err instanceof ApiError ? err.message : "The server cannot be reached.");
      setResult(null);
    } finally {
      setBusy(false);
    }
  };
  const curve = result ? sweepCurve(result) : null;
  const option = useMemo(() => {
    if (!curve) return null;
    return {
      ...chartBase,
      xAxis: { type: "value", name: result?.sweep?.split("=")[0] ?? "value", min: "dataMin", max: "dataMax", nameLocation: "middle", nameGap: 24 },
      yAxis: { type: "value", name: "%", min: 0, max: 100 },
      series: [
        { name: "service level", type: "line", data: curve.map((p) => [p.x, p.sl]) },
        { name: "abandoned", type: "line", data: curve.map((p) => [p.x, p.abandon]) },
      ],
    };
  }, [curve, result]);
  const rows = result ? resultRows(result) : [];
  return (
    <>
      <form className="card staffing-form" onSubmit={submit} aria-label="What-if simulation">
        <h2>What-if simulation</h2>
        <p className="hint">
          A scenario (docs/simulation.md) run by the simulator on the real routing code. It must be self-contained; at most 10 replications and
          20 sweep values, 20 s of computation.
        </p>
        <label className="wide">
          Scenario
          <textarea name="scenario" rows={10} spellCheck={false} value={form.scenario} onChange={(e) => setForm({ ...form, scenario: e.target.value })} />
        </label>
        <div className="row fields">
          <label>
            Replications
            <input name="replications" inputMode="numeric" value={form.replications} onChange={(e) => setForm({ ...form, replications: e.target.value })} />
          </label>
          <label>
            Sweep (PATH=FROM:TO:STEP)
            <input name="sweep" value={form.sweep} onChange={(e) => setForm({ ...form, sweep: e.target.value })} />
          </label>
          <label className="wide">
            What-ifs (PATH=VALUE, one per line)
            <textarea name="sets" rows={2} value={form.sets} onChange={(e) => setForm({ ...form, sets: e.target.value })} />
          </label>
        </div>
        {problem && (
          <p className="error" role="alert" data-testid="whatif-error">
            {problem}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? "Simulating…" : "Simulate"}
        </button>
      </form>
      {result && (
        <div className="card" data-testid="whatif-result">
          <table className="grid" data-testid="whatif-table">
            <thead>
              <tr>
                <th scope="col">{result.runs ? "Value" : "Scope"}</th>
                {shownKpis.map((k) => (
                  <th scope="col" key={k.key}>
                    {k.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.name}>
                  <th scope="row">{r.name}</th>
                  {shownKpis.map((k) => (
                    <td className="num" key={k.key}>
                      {formatFigure(r.kpis[k.key], k.kind)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {rows.some((r) => r.failures.length > 0) && (
            <ul className="error" data-testid="whatif-failures">
              {rows.flatMap((r) => r.failures.map((f) => <li key={r.name + f}>{f}</li>))}
            </ul>
          )}
          {option && <EChart option={option} label="Service level against the swept value" testId="whatif-chart" />}
        </div>
      )}
    </>
  );
}

export function Staffing() {
  const [form, setForm] = useState<StaffingForm>(defaultForm);
  const [problem, setProblem] = useState<{ field: FormField | null; message: string } | null>(null);
  const [result, setResult] = useState<StaffingPlan | StaffingPlan[] | null>(null);
  const [busy, setBusy] = useState(false);
  const mode = form.model === "erlang_b" ? "interval" : form.mode;
  const fields = formFields(mode, form.model);
  const targetPercent = Number(form.target_sl_percent);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setProblem(null);
    const built = staffingBody(form);
    if ("field" in built) {
      setProblem(built);
      return;
    }
    setBusy(true);
    try {
      setResult(await call<StaffingPlan | StaffingPlan[]>("POST", "/staffing", built.body));
    } catch (err) {
      const message = err instanceof ApiError ? err.message : "The server cannot be reached.";
      setProblem({ field: fieldOfMessage(message), message });
      setResult(null);
    } finally {
      setBusy(false);
    }
  };

  const plan = result && !Array.isArray(result) ? result : null;
  const forecast = Array.isArray(result) ? result : null;
  const curveOption = useMemo(() => {
    if (!plan?.table) return null;
    return {
      ...chartBase,
      xAxis: { type: "value", name: "agents", minInterval: 1, min: "dataMin", max: "dataMax", nameLocation: "middle", nameGap: 24 },
      yAxis: { type: "value", name: "SL %", min: 0, max: 100 },
      series: [
        {
          name: `service level in ${plan.target_seconds} s`,
          type: "line",
          data: serviceLevelCurve(plan),
          markLine: {
            symbol: "none",
            lineStyle: { type: "dashed" },
            data: [
              ...(Number.isFinite(targetPercent) && form.target_sl_percent.trim() ? [{ yAxis: targetPercent, name: "target" }] : []),
              { xAxis: plan.agents, name: "chosen" },
            ],
          },
        },
      ],
    };
  }, [plan, targetPercent, form.target_sl_percent]);
  const forecastOption = useMemo(() => {
    if (!forecast) return null;
    return {
      ...chartBase,
      xAxis: { type: "category", data: forecast.map((r) => r.interval_start) },
      yAxis: { type: "value", name: "agents", minInterval: 1 },
      series: [
        { name: "agents", type: "bar", data: forecast.map((r) => r.agents) },
        { name: "scheduled", type: "bar", data: forecast.map((r) => r.scheduled_agents) },
      ],
    };
  }, [forecast]);

  const input = (f: FormField) =>
    f === "forecast" ? (
      <label key={f} className="wide">
        {fieldLabels[f]}
        <textarea
          name={f}
          rows={6}
          value={form[f]}
          aria-invalid={problem?.field === f || undefined}
          onChange={(e) => setForm({ ...form, [f]: e.target.value })}
        />
      </label>
    ) : (
      <label key={f}>
        {fieldLabels[f]}
        <input
          name={f}
          inputMode="decimal"
          value={form[f]}
          aria-invalid={problem?.field === f || undefined}
          onChange={(e) => setForm({ ...form, [f]: e.target.value })}
        />
      </label>
    );

  return (
    <section className="staffing" aria-label="Staffing">
      <header className="wallboard-head">
        <h1>Staffing</h1>
      </header>
      <form className="card staffing-form" onSubmit={submit} aria-label="Staffing inputs">
        <div className="row">
          <label>
            Model
            <select name="model" value={form.model} onChange={(e) => setForm({ ...form, model: e.target.value as StaffingForm["model"] })}>
              <option value="erlang_c">Erlang C (callers wait)</option>
              <option value="erlang_a">Erlang A (callers abandon)</option>
              <option value="erlang_b">Erlang B (trunk lines)</option>
            </select>
          </label>
          {form.model !== "erlang_b" && (
            <label>
              Traffic
              <select name="mode" value={form.mode} onChange={(e) => setForm({ ...form, mode: e.target.value as StaffingForm["mode"] })}>
                <option value="interval">one interval</option>
                <option value="forecast">a forecast</option>
              </select>
            </label>
          )}
        </div>
        <div className="row fields">{fields.map(input)}</div>
        {problem && (
          <p className="error" role="alert" data-testid="staffing-error">
            {problem.message}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Compute
        </button>
      </form>
      {plan && (
        <div className="card" data-testid="staffing-result">
          <PlanSummary plan={plan} />
          {plan.table && <NeighbourTable plan={plan} />}
          {curveOption && <EChart option={curveOption} label="Service level against agents" testId="staffing-chart" />}
        </div>
      )}
      {forecast && forecastOption && (
        <div className="card" data-testid="staffing-result">
          <ForecastTable rows={forecast} />
          <EChart option={forecastOption} label="Agents per forecast interval" testId="staffing-chart" />
        </div>
      )}
      <WhatIf />
    </section>
  );
}
