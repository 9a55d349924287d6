// The Recordings screen (recordings.listen): a search form (date range, queue, agent, customer),
// a paged table of GET /api/v1/recordings, and a player on the recording's audio URL, which the
// session cookie authenticates (every playback is audited by the server). `#/recordings?contact=ID`
// lists one contact's recordings (from GET /api/v1/contacts/{id}), the link the agent grid and
// the desktop give.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, ApiError } from "../api";
import { formatDuration } from "../format";
import {
  audioUrl,
  contactFromHash,
  filterProblems,
  filtersFromHash,
  filtersHash,
  formatBytes,
  recordingsPath,
  type RecordingFilters,
} from "../recordings/model";
import type { Me, Recording } from "../types";
import "../reports/reports.css";

function message(e: unknown): string {
  return e instanceof ApiError ? e.message : "The server cannot be reached.";
}

const when = (t: string | null) => (t ? new Date(t).toLocaleString() : "–");
const seconds = (ms: number) => formatDuration(Math.round(ms / 1000));

export function Recordings({ me, hash }: { me: Me; hash: string }) {
  const contact = contactFromHash(hash);
  const [form, setForm] = useState<RecordingFilters>(() => filtersFromHash(hash));
  const [filters, setFilters] = useState<RecordingFilters>(form);
  // The `after` of each page shown so far: the last is the current page's.
  const [pages, setPages] = useState<(string | null)[]>([null]);
  const [rows, setRows] = useState<Recording[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState("");
  const [playing, setPlaying] = useState<Recording | null>(null);
  const [queues, setQueues] = useState<string[]>([]);
  const [agents, setAgents] = useState<string[]>([]);

  // Choices for the form, from what this user may read (typing stays possible).
  useEffect(() => {
    const p = me.permissions;
    if (p["queues.read"]) api.queues().then((q) => setQueues(q.map((x) => x.name)), () => undefined);
    if (p["agent.read"] === "team" || p["agent.read"] === "all") {
      api.agents().then((a) => setAgents(a.map((x) => x.id)), () => undefined);
    }
  }, [me]);

  const after = pages[pages.length - 1];
  const load = useCallback(async () => {
    setError("");
    try {
      if (contact) {
        const c = await api.contact(contact);
        setRows(c.recordings ?? []);
        setNext(null);
      } else {
        const page = await api.recordings(recordingsPath(filters, after));
        setRows(page.recordings);
        setNext(page.next_after);
      }
    } catch (e) {
      setRows([]);
      setError(message(e));
    }
  }, [contact, filters, after]);
  useEffect(() => {
    load();
  }, [load]);

  const problems = filterProblems(form);
  const search = (e: FormEvent) => {
    e.preventDefault();
    if (problems.length > 0) return;
    setFilters(form);
    setPages([null]);
    if (contact) location.hash = filtersHash(form);
  };
  const field = (k: keyof RecordingFilters) => ({
    name: k,
    value: form[k],
    onChange: (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value }),
  });

  return (
    <section className="recordings" aria-label="Recordings" data-testid="recordings">
      <form className="card report-controls" aria-label="Recording search" onSubmit={search}>
        <label>
          From <input type="date" {...field("from")} />
        </label>
        <label>
          To <input type="date" {...field("to")} />
        </label>
        <label>
          Queue <input list="recording-queues" placeholder="any" {...field("queue")} />
        </label>
        <datalist id="recording-queues">
          {queues.map((q) => (
            <option key={q} value={q} />
          ))}
        </datalist>
        <label>
          Agent <input list="recording-agents" placeholder="any" {...field("agent")} />
        </label>
        <datalist id="recording-agents">
          {agents.map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        <label>
          Customer <input inputMode="numeric" placeholder="customer number" {...field("customer")} />
        </label>
        <button type="submit" className="primary" disabled={problems.length > 0}>
          Search
        </button>
        {problems.length > 0 && (
          <p className="error" role="alert" data-testid="recording-filter-problems">
            {problems.join(" ")}
          </p>
        )}
      </form>

      {contact && (
        <p className="muted" data-testid="recordings-of-contact">
          Recordings of contact #{contact} · <a href="#/recordings">all recordings</a>
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}

      {playing && <Player r={playing} onClose={() => setPlaying(null)} />}

      <div className="card table-wrap">
        {rows === null ? (
          <p className="empty" aria-busy="true">
            Loading…
          </p>
        ) : rows.length === 0 ? (
          <p className="empty" data-testid="recordings-empty">
            {contact ? "This contact has no recordings." : "No recordings match these filters."}
          </p>
        ) : (
          <table className="grid" data-testid="recordings-table">
            <thead>
              <tr>
                <th>Started</th>
                <th>Duration</th>
                <th>Queue</th>
                <th>Agent</th>
                <th>Customer</th>
                <th>Size</th>
                <th>
                  <span className="sr-only">Play</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id} data-recording={r.id} aria-selected={playing?.id === r.id}>
                  <td>{when(r.started_at)}</td>
                  <td className="num">{seconds(r.duration_ms)}</td>
                  <td>{r.queue}</td>
                  <td>{r.agent}</td>
                  <td>{r.customer ?? "–"}</td>
                  <td className="num">{formatBytes(r.bytes)}</td>
                  <td>
                    <button type="button" onClick={() => setPlaying(r)} aria-label={`Play recording ${r.id}`}>
                      Play
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>

      {!contact && (pages.length > 1 || next) && (
        <nav className="actions" aria-label="Pages">
          <button type="button" disabled={pages.length <= 1} onClick={() => setPages(pages.slice(0, -1))}>
            Previous page
          </button>
          <span className="muted">page {pages.length}</span>
          <button type="button" disabled={!next} onClick={() => next && setPages([...pages, next])}>
            Next page
          </button>
        </nav>
      )}
    </section>
  );
}

function Player({ r, onClose }: { r: Recording; onClose: () => void }) {
  return (
    <section className="card player" aria-label={`Recording ${r.id}`} data-testid="player">
      <header className="contact-head">
        <strong>Recording {r.id}</strong>
        <span className="muted">contact #{r.contact}</span>
        <button type="button" className="link" onClick={onClose}>
          Close
        </button>
      </header>
      <audio controls preload="metadata" src={audioUrl(r.id)} data-testid="player-audio">
        Your browser cannot play WAV audio.
      </audio>
      <dl className="attributes">
        <div>
          <dt>started</dt>
          <dd>{when(r.started_at)}</dd>
        </div>
        <div>
          <dt>completed</dt>
          <dd>{when(r.completed_at)}</dd>
        </div>
        <div>
          <dt>duration</dt>
          <dd>{seconds(r.duration_ms)}</dd>
        </div>
        <div>
          <dt>queue</dt>
          <dd>{r.queue}</dd>
        </div>
        <div>
          <dt>agent</dt>
          <dd>{r.agent}</dd>
        </div>
        <div>
          <dt>customer</dt>
          <dd>{r.customer ?? "–"}</dd>
        </div>
        <div>
          <dt>size</dt>
          <dd>{formatBytes(r.bytes)}</dd>
        </div>
        <div>
          <dt>SHA-256</dt>
          <dd className="hash">{r.sha256}</dd>
        </div>
      </dl>
    </section>
  );
}
