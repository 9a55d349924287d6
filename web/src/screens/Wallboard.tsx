// The supervisor wallboard: one tile per queue (waiting, longest wait, service level, ASA, AHT,
// abandoned, agents by state) coloured when a threshold is crossed, and a live chart of waiting
// and service level over the session. `tv` is the full-screen lobby layout.
import { useEffect, useRef, useState } from "react";
import {
  abandonLevel,
  formatDuration,
  formatPercent,
  serviceLevelLevel,
  waitLevel,
  worst,
  type Level,
} from "../format";
import { useNow } from "../hooks";
import { agentsByState, appendSample, longestWaitNow, type Sample } from "../state";
import type { Me, Queue } from "../types";
import { useLive } from "../useLive";
import { QueueChart } from "./Chart";
import { StreamBadge } from "./StreamBadge";

const sampleEveryMs = 5000;
const maxSamples = 720;  // one hour at one sample every 5 s

function Metric({ label, value, level, testid }: { label: string; value: string | number; level?: Level; testid?: string }) {
  return (
    <div className={`metric ${level ?? ""}`} data-level={level ?? "ok"}>
      <div className="value" data-testid={testid}>
        {value}
      </div>
      <div className="label">{label}</div>
    </div>
  );
}

export function Wallboard({ me, tv, onTv, onExit }: { me: Me; tv?: boolean; onTv?: () => void; onExit?: () => void }) {
  const { live, stream } = useLive(Boolean(me.permissions["queues.read"]));
  const now = useNow();
  const [history, setHistory] = useState<Sample[]>([]);
  const queues = Object.values(live.queues).sort((a, b) => b.priority - a.priority || a.name.localeCompare(b.name));
  const agents = Object.values(live.agents);

  // The sampling timer reads the latest queues without restarting on every change.
  const latestQueues = useRef(live.queues);
  latestQueues.current = live.queues;
  useEffect(() => {
    const take = () =>
      setHistory((h) => appendSample(h, Object.values(latestQueues.current), Date.now(), maxSamples));
    const id = setInterval(take, sampleEveryMs);
    return () => clearInterval(id);
  }, []);
  // The first sample as soon as statistics arrive, so the chart is never empty for long.
  useEffect(() => {
    if (history.length === 0 && queues.length > 0) setHistory(appendSample([], queues, Date.now(), maxSamples));
  }, [history.length, queues]);

  useEffect(() => {
    if (!tv) return;
    const key = (e: KeyboardEvent) => {
      if (e.key === "Escape" && !document.fullscreenElement) onExit?.();
    };
    addEventListener("keydown", key);
    return () => removeEventListener("keydown", key);
  }, [tv, onExit]);

  const total = agentsByState(agents);
  return (
    <section className={tv ? "wallboard tv" : "wallboard"} aria-label="Wallboard" data-testid={tv ? "tv" : "wallboard"}>
      <header className="wallboard-head">
        <h1>{tv ? "Contact center — live" : "Wallboard"}</h1>
        <div className="agent-totals" aria-label="Agents by state">
          <span className="pill available">{total.available} available</span>
          <span className="pill busy">{total.busy} busy</span>
          <span className="pill wrap-up">{total["wrap-up"]} wrap-up</span>
          <span className="pill not-ready">{total["not-ready"]} not ready</span>
        </div>
        <StreamBadge status={stream} />
        {tv ? (
          <span className="tv-buttons">
            <button type="button" onClick={() => document.documentElement.requestFullscreen?.().catch(() => undefined)}>
              Full screen
            </button>
            {onExit && (
              <button type="button" onClick={onExit}>
                {me.roles.every((r) => r === "wallboard") ? "Log out" : "Exit TV"}
              </button>
            )}
          </span>
        ) : (
          onTv && (
            <button type="button" onClick={onTv}>
              TV mode
            </button>
          )
        )}
      </header>
      <div className="tiles">
        {queues.map((q) => (
          <QueueTile key={q.name} q={q} wait={longestWaitNow(q, live.queuesAt, now)} agents={agentsByState(agents, q.name)} />
        ))}
        {queues.length === 0 && <p className="empty">Waiting for queue statistics…</p>}
      </div>
      <div className="card chart-card">
        <QueueChart history={history} queues={queues.map((q) => q.name)} dark={tv} />
      </div>
    </section>
  );
}

function QueueTile({ q, wait, agents }: { q: Queue; wait: number; agents: Record<string, number> }) {
  const target = q.sl_target;
  const answeredOrAbandoned = q.answered + q.abandoned;
  const slLevel = answeredOrAbandoned > 0 ? serviceLevelLevel(q.service_level, target) : "ok";
  const wLevel = waitLevel(wait, q.sl_target_seconds);
  const aLevel = abandonLevel(q.abandoned, q.offered);
  const level = worst(slLevel, wLevel, aLevel);
  return (
    <article className={`card tile ${level}`} aria-label={`Queue ${q.name}`} data-testid={`queue-${q.name}`} data-level={level}>
      <h2>
        {q.name}
        <span className="muted channels">{q.channels.join(" · ")}</span>
      </h2>
      <div className="metrics">
        <Metric label="waiting" value={q.waiting} level={wLevel} testid="waiting" />
        <Metric label="longest wait" value={formatDuration(wait)} level={wLevel} testid="longest" />
        <Metric
          label={`SL (${Math.round(target * 100)}% in ${q.sl_target_seconds}s)`}
          value={answeredOrAbandoned > 0 ? formatPercent(q.service_level) : "–"}
          level={slLevel}
          testid="sl"
        />
        <Metric label="ASA" value={formatDuration(q.asa_seconds)} testid="asa" />
        <Metric label="AHT" value={formatDuration(q.aht_seconds)} testid="aht" />
        <Metric
          label={`abandoned${q.offered > 0 ? ` (${formatPercent(q.abandoned / q.offered)})` : ""}`}
          value={q.abandoned}
          level={aLevel}
          testid="abandoned"
        />
        <Metric label="offered" value={q.offered} testid="offered" />
        <Metric label="answered" value={q.answered} testid="answered" />
      </div>
      <div className="agent-totals small">
        <span className="pill available">{agents.available} avail</span>
        <span className="pill busy">{agents.busy} busy</span>
        <span className="pill wrap-up">{agents["wrap-up"]} wrap</span>
        <span className="pill not-ready">{agents["not-ready"]} NR</span>
      </div>
    </article>
  );
}
