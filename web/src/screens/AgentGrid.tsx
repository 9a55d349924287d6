// The agent grid: every visible agent's state, reason, time in state, current contact and
// today's count, filtered by team and queue; force a state (with agent.state over the team or
// all); the routing explanation of any current or waiting contact; listen, whisper, barge and stop
// on live voice calls (calls.monitor).
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api, ApiError } from "../api";
import { agentActivity, activityClass, activitySince, formatDuration, secondsSince, titleCase } from "../format";
import { useCoalesced, useNow } from "../hooks";
import { mayForceState, mayListen } from "../roles";
import {
  emptyMonitorBook,
  isMonitorable,
  mayMonitor,
  monitorBookAfterEvent,
  monitorOfContact,
  monitorsToRead,
  withMonitorRead,
  withMonitorState,
} from "../monitor";
import type { Contact, Me, StreamEvent } from "../types";
import { useLive } from "../useLive";
import { CodeInput } from "./CodeInput";
import { MonitorControls } from "./MonitorControls";
import { StreamBadge } from "./StreamBadge";

function message(e: unknown): string {
  return e instanceof ApiError ? e.message : "The server cannot be reached.";
}

export function AgentGrid({ me }: { me: Me }) {
  // Monitoring of live voice calls, by contact: read from the contact, then followed by events;
  // after a stream `reset` or `gap` (events lost) every live call is read again.
  const [monitors, setMonitors] = useState(emptyMonitorBook);
  const monitorsNow = useRef(monitors);
  monitorsNow.current = monitors;
  const onEvent = useCallback((e: StreamEvent) => setMonitors((b) => monitorBookAfterEvent(b, e)), []);
  const { live, stream } = useLive(Boolean(me.permissions["queues.read"]), onEvent);
  const now = useNow();
  const [team, setTeam] = useState("");
  const [queue, setQueue] = useState("");
  const [reason, setReason] = useState(me.reason_codes?.[0]?.code ?? "");
  const [error, setError] = useState("");
  const [explained, setExplained] = useState<{ contact: string; text: string } | null>(null);
  const [waiting, setWaiting] = useState<Contact[]>([]);
  const canForce = mayForceState(me);
  const canReadContacts = Boolean(me.permissions["contacts.read"]);
  const canMonitor = mayMonitor(me);

  // The live calls that may be monitored; each newly seen one is read once for its `monitor`.
  const liveCalls = useMemo(
    () =>
      Object.values(live.agents)
        .flatMap((a) => a.contacts)
        .filter((c) => isMonitorable(c.channel, c.state))
        .map((c) => c.contact)
        .sort()
        .join(","),
    [live.agents],
  );
  useEffect(() => {
    if (!canMonitor) return;
    const book = monitorsNow.current;
    monitorsToRead(book, liveCalls ? liveCalls.split(",") : []).forEach((id) =>
      api
        .contact(id)
        .then((c) => setMonitors((b) => withMonitorRead(b, id, monitorOfContact(c), book.epoch)))
        .catch(() => undefined),  // gone meanwhile: the next event says so
    );
  }, [liveCalls, canMonitor, monitors.epoch]);

  const agents = useMemo(
    () =>
      Object.values(live.agents)
        .filter((a) => (!team || a.team === team) && (!queue || a.queues.includes(queue)))
        .sort((a, b) => a.name.localeCompare(b.name)),
    [live.agents, team, queue],
  );
  const teams = useMemo(() => [...new Set(Object.values(live.agents).map((a) => a.team).filter(Boolean))].sort(), [live.agents]);
  const queues = useMemo(() => [...new Set(Object.values(live.agents).flatMap((a) => a.queues))].sort(), [live.agents]);

  const refreshWaiting = useCoalesced(async () => {
    if (!canReadContacts) return;
    setWaiting(await api.queuedContacts());
  }, 500);
  useEffect(refreshWaiting, [live.seq, refreshWaiting]);

  const explain = async (contact: string) => {
    setError("");
    try {
      const r = await api.explanation(contact);
      setExplained({ contact, text: r.explanation });
    } catch (e) {
      setError(message(e));
    }
  };
  const force = async (agent: string, presence: string) => {
    setError("");
    try {
      await api.setPresence(agent, presence, presence === "not-ready" ? reason : undefined);
    } catch (e) {
      setError(message(e));
    }
  };

  return (
    <section className="agent-grid" aria-label="Agents">
      <header className="wallboard-head">
        <h1>Agents</h1>
        <label>
          Team
          <select value={team} onChange={(e) => setTeam(e.target.value)} name="team">
            <option value="">all</option>
            {teams.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          Queue
          <select value={queue} onChange={(e) => setQueue(e.target.value)} name="queue">
            <option value="">all</option>
            {queues.map((q) => (
              <option key={q}>{q}</option>
            ))}
          </select>
        </label>
        {canForce && <CodeInput label="Not Ready reason" codes={me.reason_codes} value={reason} onChange={setReason} name="force-reason" />}
        <StreamBadge status={stream} />
      </header>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {explained && (
        <div className="card explanation" role="region" aria-label={`Routing explanation of contact ${explained.contact}`} data-testid="explanation">
          <strong>Contact #{explained.contact}:</strong> <span>{explained.text}</span>
          <button type="button" className="link" onClick={() => setExplained(null)}>
            Close
          </button>
        </div>
      )}
      <div className="card table-wrap">
        <table className="grid" data-testid="agent-table">
          <thead>
            <tr>
              <th scope="col">Agent</th>
              <th scope="col">Team</th>
              <th scope="col">State</th>
              <th scope="col">Time in state</th>
              <th scope="col">Current contact</th>
              <th scope="col">Handled today</th>
              {canForce && <th scope="col">Force state</th>}
            </tr>
          </thead>
          <tbody>
            {agents.map((a) => {
              const activity = agentActivity(a);
              return (
                <tr key={a.id} data-agent={a.id}>
                  <th scope="row">{a.name}</th>
                  <td>{a.team}</td>
                  <td>
                    <span className={`state-dot ${activityClass(activity)}`} aria-hidden="true" /> {activity}
                  </td>
                  <td className="num">{activitySince(a) ? formatDuration(secondsSince(activitySince(a), now)) : "–"}</td>
                  <td>
                    {a.contacts.map((c) => (
                      <span key={c.contact} className="contact-chip">
                        {titleCase(c.channel)} {c.queue} · {c.state} {formatDuration(secondsSince(c.since, now))}
                        {canReadContacts && (
                          <button type="button" className="link" onClick={() => explain(c.contact)} aria-label={`Why was contact ${c.contact} routed to ${a.name}?`}>
                            why?
                          </button>
                        )}
                        {mayListen(me) && (
                          <a href={`#/recordings?contact=${c.contact}`} aria-label={`Recordings of contact ${c.contact}`}>
                            recordings
                          </a>
                        )}
                        {canMonitor && isMonitorable(c.channel, c.state) && (
                          <MonitorControls
                            contact={c.contact}
                            login={me.login}
                            state={monitors.calls[c.contact] ?? null}
                            onState={(st) => setMonitors((b) => withMonitorState(b, c.contact, st))}
                          />
                        )}
                      </span>
                    ))}
                  </td>
                  <td className="num">{a.handled_today}</td>
                  {canForce && (
                    <td className="force">
                      <button type="button" onClick={() => force(a.id, "available")} disabled={a.presence === "available"}>
                        Available
                      </button>
                      <button type="button" onClick={() => force(a.id, "not-ready")}>
                        Not Ready
                      </button>
                      <button type="button" onClick={() => force(a.id, "offline")} disabled={a.presence === "offline"}>
                        Log out
                      </button>
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
        {agents.length === 0 && <p className="empty">No agent matches.</p>}
      </div>
      {canReadContacts && (
        <div className="card">
          <h2>Waiting contacts</h2>
          {waiting.length === 0 ? (
            <p className="muted" data-testid="no-waiting">
              No contact is waiting.
            </p>
          ) : (
            <table className="grid" data-testid="waiting-table">
              <thead>
                <tr>
                  <th scope="col">Contact</th>
                  <th scope="col">Channel</th>
                  <th scope="col">Queue</th>
                  <th scope="col">Waiting</th>
                  <th scope="col">Routing</th>
                </tr>
              </thead>
              <tbody>
                {waiting.map((c) => (
                  <tr key={c.id}>
                    <th scope="row">#{c.id}</th>
                    <td>{titleCase(c.channel)}</td>
                    <td>{c.queue}</td>
                    <td className="num">{formatDuration(secondsSince(c.times.queued ?? c.times.arrived, now))}</td>
                    <td>
                      <button type="button" className="link" onClick={() => explain(c.id)}>
                        why not routed?
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </section>
  );
}
