// Listen, whisper, barge and stop on a live voice call (docs/voice.md, "Supervisor monitoring"),
// for holders of calls.monitor on the agent grid. The state shown is the contact view's `monitor`
// field as last read or replied, then the monitor.* events of the stream; the server's refusals
// (409: not a live call, monitored by someone else, same mode; 422: no registered phone) appear
// next to the buttons in its own words.
import { useState } from "react";
import { api, ApiError } from "../api";
import { monitorButtons, monitorModeLabels, monitorOfContact, monitorText, type MonitorMode, type MonitorState } from "../monitor";
import type { Contact } from "../types";

function message(e: unknown): string {
  return e instanceof ApiError ? e.message : "The server cannot be reached.";
}

export function MonitorControls({
  contact,
  login,
  state,
  onState,
}: {
  contact: string;
  login: string;
  state: MonitorState;
  onState: (s: MonitorState) => void;
}) {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const buttons = monitorButtons(state, login);

  const run = async (what: () => Promise<Contact>) => {
    setError("");
    setBusy(true);
    try {
      onState(monitorOfContact(await what()));
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <span className="monitor" role="group" aria-label={`Monitor contact ${contact}`} data-testid={`monitor-${contact}`}>
      <span className={`monitor-state${state ? " on" : ""}`} data-testid="monitor-state">
        {monitorText(state, login)}
      </span>
      {(["listen", "whisper", "barge"] as MonitorMode[]).map((m) => (
        <button
          key={m}
          type="button"
          disabled={busy || !buttons.modes.includes(m)}
          aria-pressed={state?.mode === m && state.supervisor === login}
          onClick={() => run(() => api.monitor(contact, m))}
        >
          {monitorModeLabels[m]}
        </button>
      ))}
      <button type="button" disabled={busy || !buttons.stop} onClick={() => run(() => api.stopMonitor(contact))}>
        Stop
      </button>
      {error && (
        <span className="error" role="alert" data-testid="monitor-error">
          {error}
        </span>
      )}
    </span>
  );
}
