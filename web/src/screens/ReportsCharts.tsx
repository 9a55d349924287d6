// The Reports screen's charts (ECharts, loaded on demand): volume per interval, service level
// against the queue's target (or occupancy for agents), AHT split into talk, hold and wrap-up, and
// first-contact resolution per queue or agent.
import { useEffect, useRef } from "react";
import {
  formatIntervalStart,
  intervalStarts,
  serviceLevelTarget,
  seriesByInterval,
  seriesByName,
  type Interval,
  type ReportRow,
  type Subject,
} from "../reports/model";

type EChartsLike = { setOption: (o: unknown, notMerge?: boolean) => void; resize: () => void; dispose: () => void };

/** One ECharts canvas showing `option`, resized with its box. */
export function EChart({ option, label, testId }: { option: unknown; label: string; testId: string }) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<EChartsLike | null>(null);
  const latest = useRef(option);
  latest.current = option;

  useEffect(() => {
    let disposed = false;
    let observer: ResizeObserver | undefined;
    import("../reports/echarts").then((echarts) => {
      if (disposed || !el.current) return;
      chart.current = echarts.init(el.current) as unknown as EChartsLike;
      observer = new ResizeObserver(() => chart.current?.resize());
      observer.observe(el.current);
      chart.current.setOption(latest.current, true);
    });
    return () => {
      disposed = true;
      observer?.disconnect();
      chart.current?.dispose();
      chart.current = null;
    };
  }, []);
  useEffect(() => chart.current?.setOption(option, true), [option]);

  return <div ref={el} className="chart report-chart" role="img" aria-label={label} data-testid={testId} />;
}

const base = {
  backgroundColor: "transparent",
  animation: false,
  tooltip: { trigger: "axis" },
  legend: { top: 0, type: "scroll" },
  grid: { left: 48, right: 24, top: 36, bottom: 28 },
};

const round1 = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
const percent = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 10);

export function ReportCharts({
  rows,
  subject,
  interval,
  timeZone,
}: {
  rows: ReportRow[];
  subject: Subject;
  interval: Interval;
  timeZone?: string;
}) {
  const points = seriesByInterval(rows);
  const x = intervalStarts(rows).map((s) => formatIntervalStart(s, interval, timeZone));
  const xAxis = { type: "category", data: x };
  const volume =
    subject === "queues"
      ? {
          ...base,
          xAxis,
          yAxis: { type: "value", name: "contacts", minInterval: 1 },
          series: [
            { name: "Answered", type: "bar", stack: "volume", data: points.map((p) => p.answered) },
            { name: "Abandoned", type: "bar", stack: "volume", data: points.map((p) => p.abandoned) },
          ],
        }
      : {
          ...base,
          xAxis,
          yAxis: { type: "value", name: "handled", minInterval: 1 },
          series: seriesByName(rows, "handled").map((s) => ({ name: s.name, type: "bar", stack: "volume", data: s.values })),
        };
  const target = serviceLevelTarget(rows);
  const level = {
    ...base,
    xAxis,
    yAxis: { type: "value", name: "%", min: 0, max: 100 },
    series: seriesByName(rows, subject === "queues" ? "service_level" : "occupancy").map((s, i) => ({
      name: s.name,
      type: "line",
      connectNulls: false,
      data: s.values.map(percent),
      ...(i === 0 && subject === "queues" && target !== null
        ? { markLine: { symbol: "none", label: { formatter: "target" }, lineStyle: { type: "dashed" }, data: [{ yAxis: target * 100 }] } }
        : {}),
    })),
  };
  const aht = {
    ...base,
    xAxis,
    yAxis: { type: "value", name: "seconds" },
    series: [
      { name: "Talk", type: "bar", stack: "aht", data: points.map((p) => round1(p.talk)) },
      { name: "Hold", type: "bar", stack: "aht", data: points.map((p) => round1(p.hold)) },
      { name: "Wrap-up", type: "bar", stack: "aht", data: points.map((p) => round1(p.wrapUp)) },
    ],
  };
  const fcr = {
    ...base,
    xAxis,
    yAxis: { type: "value", name: "%", min: 0, max: 100 },
    series: seriesByName(rows, "fcr").map((s) => ({ name: s.name, type: "line", connectNulls: false, data: s.values.map(percent) })),
  };
  return (
    <div className="report-charts">
      <section className="card" aria-label="Volume">
        <h2>{subject === "queues" ? "Answered and abandoned" : "Handled"}</h2>
        <EChart option={volume} label="Volume per interval" testId="chart-volume" />
      </section>
      <section className="card" aria-label={subject === "queues" ? "Service level" : "Occupancy"}>
        <h2>{subject === "queues" ? "Service level against target" : "Occupancy"}</h2>
        <EChart option={level} label={subject === "queues" ? "Service level per interval" : "Occupancy per interval"} testId="chart-level" />
      </section>
      <section className="card" aria-label="Handle time">
        <h2>AHT: talk, hold, wrap-up</h2>
        <EChart option={aht} label="Average handle time split per interval" testId="chart-aht" />
      </section>
      <section className="card" aria-label="First-contact resolution">
        <h2>First-contact resolution</h2>
        <EChart option={fcr} label="First-contact resolution per interval" testId="chart-fcr" />
      </section>
    </div>
  );
}
