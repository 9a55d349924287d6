// The wallboard's live chart (ECharts, loaded on demand): contacts waiting per queue on the left
// axis, service level per queue (dashed) on the right, over this session.
import { useEffect, useRef } from "react";
import type { Sample } from "../state";

type EChartsLike = { setOption: (o: unknown, notMerge?: boolean) => void; resize: () => void; dispose: () => void };

export function QueueChart({ history, queues, dark }: { history: Sample[]; queues: string[]; dark?: boolean }) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<EChartsLike | null>(null);

  useEffect(() => {
    let disposed = false;
    let observer: ResizeObserver | undefined;
    import("../echarts").then((echarts) => {
      if (disposed || !el.current) return;
      chart.current = echarts.init(el.current, dark ? "dark" : undefined) as unknown as EChartsLike;
      observer = new ResizeObserver(() => chart.current?.resize());
      observer.observe(el.current);
      render();
    });
    return () => {
      disposed = true;
      observer?.disconnect();
      chart.current?.dispose();
      chart.current = null;
    };
  }, [dark]);

  const render = () => {
    if (!chart.current) return;
    const times = history.map((s) => new Date(s.time).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }));
    chart.current.setOption(
      {
        backgroundColor: "transparent",
        animation: false,
        tooltip: { trigger: "axis" },
        legend: { top: 0, type: "scroll" },
        grid: { left: 40, right: 48, top: 36, bottom: 28 },
        xAxis: { type: "category", data: times, boundaryGap: false },
        yAxis: [
          { type: "value", name: "waiting", minInterval: 1 },
          { type: "value", name: "SL %", min: 0, max: 100, splitLine: { show: false } },
        ],
        series: [
          ...queues.map((q) => ({
            name: `${q} waiting`,
            type: "line",
            step: "end",
            showSymbol: history.length < 3,
            data: history.map((s) => s.waiting[q] ?? 0),
          })),
          ...queues.map((q) => ({
            name: `${q} SL`,
            type: "line",
            yAxisIndex: 1,
            showSymbol: history.length < 3,
            lineStyle: { type: "dashed" },
            data: history.map((s) => (s.serviceLevel[q] === undefined ? null : Math.round(s.serviceLevel[q] * 100))),
          })),
        ],
      },
      true,
    );
  };
  useEffect(render);

  return <div ref={el} className="chart" role="img" aria-label="Contacts waiting and service level per queue over this session" />;
}
