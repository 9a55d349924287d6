// "Today" on the agent desktop: the agent's own report for the site's current day (one period of
// GET /api/v1/reports/agents?interval=1d around now), re-read when `version` changes.
import { useEffect, useState } from "react";
import { api } from "../api";
import { formatCell, todayPath, type ReportRow } from "../reports/model";
import "../reports/reports.css";

export function AgentToday({ agent, version }: { agent: string; version: number }) {
  const [row, setRow] = useState<ReportRow | null>(null);
  useEffect(() => {
    let live = true;
    api
      .report(todayPath(agent, Date.now()))
      .then((r) => live && setRow(r.rows[r.rows.length - 1] ?? null))
      .catch(() => live && setRow(null));
    return () => {
      live = false;
    };
  }, [agent, version]);
  if (!row) return null;
  const figures: [string, string][] = [
    ["handled", "handled"],
    ["aht", "AHT"],
    ["talk", "talk"],
    ["wrap_up", "wrap-up"],
    ["occupancy", "occupancy"],
  ];
  return (
    <dl className="today-stats" aria-label="My statistics today" data-testid="today-stats">
      {figures.map(([column, label]) => (
        <div key={column}>
          <dt className="muted">{label}</dt>
          <dd data-testid={`today-${column}`}>{formatCell(column, row[column], "1d")}</dd>
        </div>
      ))}
    </dl>
  );
}
