// The Reports screen: interval reports per queue or agent (GET /api/v1/reports/*) for a range
// preset and an interval, charts first, the table below, and the same report as a CSV download.
import { useCallback, useEffect, useMemo, useState } from "react";
import { api, ApiError } from "../api";
import {
  columnLabels,
  defaultInterval,
  formatCell,
  intervalLabels,
  intervals,
  namesOfRows,
  presetLabels,
  presetRange,
  presets,
  reportPath,
  type Interval,
  type Preset,
  type Report,
  type Subject,
} from "../reports/model";
import { mayExportReports } from "../roles";
import type { Me } from "../types";
import { ReportCharts } from "./ReportsCharts";
import "../reports/reports.css";

export function Reports({ me }: { me: Me }) {
  const [subject, setSubject] = useState<Subject>("queues");
  const [name, setName] = useState("");
  const [preset, setPreset] = useState<Preset>("today");
  const [interval, setGrain] = useState<Interval>("1h");
  const [names, setNames] = useState<string[]>([]);
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState("");
  const [loading, setLoading] = useState(false);
  const [asked, setAsked] = useState(() => Date.now());

  // The names to choose from: queues, or the agents the user may see.
  useEffect(() => {
    let live = true;
    // Without queues.read (QA analysts) GET /queues answers 403: the report's own rows name them.
    const list =
      subject === "queues"
        ? me.permissions["queues.read"]
          ? api.queues().then((qs) => qs.map((q) => q.name))
          : Promise.resolve([] as string[])
        : me.permissions["agent.read"]
          ? api.agents().then((as) => as.map((a) => a.id))
          : Promise.resolve([] as string[]);
    list.then((n) => live && setNames(n)).catch(() => live && setNames([]));
    return () => {
      live = false;
    };
  }, [subject, me]);

  const range = useMemo(() => presetRange(preset, asked, me.time_zone ?? undefined), [preset, asked, me.time_zone]);
  const load = useCallback(async () => {
    setLoading(true);
    setError("");
    try {
      setReport(await api.report(reportPath(subject, range, interval, name)));
    } catch (e) {
      setReport(null);
      setError(e instanceof ApiError ? e.message : "The server cannot be reached.");
    } finally {
      setLoading(false);
    }
  }, [subject, range, interval, name]);
  useEffect(() => {
    void load();
  }, [load]);

  const csvHref = `/api/v1${reportPath(subject, range, interval, name, "csv")}`;
  const rows = report?.subject === subject ? report.rows : [];
  // Names seen in the unfiltered report, for users the API does not list them to.
  const [seen, setSeen] = useState<{ subject: Subject; names: string[] }>({ subject, names: [] });
  useEffect(() => {
    if (report?.subject === subject && name === "") setSeen({ subject, names: namesOfRows(report.rows) });
  }, [report, subject, name]);
  const choices = names.length > 0 ? names : seen.subject === subject ? seen.names : [];

  return (
    <section className="reports" aria-label="Reports" data-testid="reports">
      <form
        className="card report-controls"
        aria-label="Report"
        onSubmit={(e) => {
          e.preventDefault();
          setAsked(Date.now());
        }}
      >
        <label>
          Report
          <select
            name="subject"
            value={subject}
            onChange={(e) => {
              setSubject(e.target.value as Subject);
              setName("");
            }}
          >
            <option value="queues">Queues</option>
            <option value="agents">Agents</option>
          </select>
        </label>
        <label>
          {subject === "queues" ? "Queue" : "Agent"}
          <select name="name" value={name} onChange={(e) => setName(e.target.value)}>
            <option value="">All</option>
            {choices.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label>
          Range
          <select
            name="range"
            value={preset}
            onChange={(e) => {
              const p = e.target.value as Preset;
              setPreset(p);
              setGrain(defaultInterval(p));
            }}
          >
            {presets.map((p) => (
              <option key={p} value={p}>
                {presetLabels[p]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Interval
          <select name="interval" value={interval} onChange={(e) => setGrain(e.target.value as Interval)}>
            {intervals.map((i) => (
              <option key={i} value={i}>
                {intervalLabels[i]}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Refresh</button>
        {mayExportReports(me) && (
          <a className="button" href={csvHref} download data-testid="download-csv">
            Download CSV
          </a>
        )}
        {report && (
          <span className="muted">
            {report.time_zone} · as of {new Date(report.as_of).toLocaleTimeString()}
          </span>
        )}
      </form>

      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {loading && !report && <p aria-busy="true">Loading…</p>}

      {report && rows.length > 0 && <ReportCharts rows={rows} subject={subject} interval={report.interval} timeZone={report.time_zone} />}

      {report && (
        <div className="card table-wrap">
          <table className="grid report-table" data-testid="report-table">
            <caption className="sr-only">
              {subject === "queues" ? "Queue" : "Agent"} report, {presetLabels[preset]}, per {intervalLabels[interval]}
            </caption>
            <thead>
              <tr>
                {report.columns.map((c) => (
                  <th key={c} scope="col" title={c}>
                    {columnLabels[c] ?? c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={`${r.queue ?? r.agent}@${r.interval_start}`} data-name={String(r.queue ?? r.agent)} data-start={String(r.interval_start)}>
                  {report.columns.map((c) => (
                    <td key={c} data-column={c} className={typeof r[c] === "number" ? "num" : undefined}>
                      {formatCell(c, r[c], report.interval, report.time_zone)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {rows.length === 0 && <p className="empty">No rows for this choice.</p>}
        </div>
      )}
    </section>
  );
}
