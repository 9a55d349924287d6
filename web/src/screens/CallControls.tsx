// Call control for a voice contact the agent handles (docs/voice.md, "Call control" and
// "Recording"): hold/resume, mute/unmute, hang up, blind transfer to a queue, a DTMF keypad and
// the recording commands its state allows. The buttons show the contact as last read or as the
// server's reply carried it; the server's refusals (409, 422) appear next to the buttons.
import { useState } from "react";
import { api, ApiError } from "../api";
import {
  callState,
  keypad,
  normalDigits,
  recordingActionLabels,
  recordingActions,
  recordingStateLabels,
} from "../callControl";
import type { Contact } from "../types";

function message(e: unknown): string {
  return e instanceof ApiError ? e.message : "The server cannot be reached.";
}

export function CallControls({
  id,
  contact,
  queues,
  recordingPolicy,
  onReply,
}: {
  id: string;
  contact?: Contact;
  /** Queues a call may be transferred to. */
  queues: string[];
  /** The contact's queue's recording policy (GET /api/v1/queues), when known. */
  recordingPolicy?: string;
  /** The contact as the server's reply shows it (or undefined when the call left the agent). */
  onReply: (c?: Contact) => void;
}) {
  const state = callState(contact);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [target, setTarget] = useState("");
  const [digits, setDigits] = useState("");
  const [sent, setSent] = useState("");
  const targets = queues.filter((q) => q !== contact?.queue);
  const chosen = targets.includes(target) ? target : targets[0] ?? "";

  const run = async (what: () => Promise<Contact>, after?: (c: Contact) => void) => {
    setError("");
    setBusy(true);
    try {
      const c = await what();
      after?.(c);
      onReply(c);
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };
  const send = (text: string) => {
    const d = normalDigits(text);
    if (!d) {
      setError("Digits are 0-9, *, # and A-D, at most 64.");
      return;
    }
    run(
      () => api.dtmf(id, d),
      () => {
        setSent((s) => (s + d).slice(-32));
        setDigits("");
      },
    );
  };

  return (
    <section className="call-controls" aria-label="Call control" data-testid="call-controls">
      <div className="row">
        <button
          type="button"
          aria-pressed={state.onHold}
          className={state.onHold ? "selected warn" : ""}
          disabled={busy}
          onClick={() => run(() => (state.onHold ? api.resume(id) : api.hold(id)))}
        >
          {state.onHold ? "Resume" : "Hold"}
        </button>
        <button
          type="button"
          aria-pressed={state.muted}
          className={state.muted ? "selected warn" : ""}
          disabled={busy}
          onClick={() => run(() => api.mute(id, !state.muted))}
        >
          {state.muted ? "Unmute" : "Mute"}
        </button>
        <button type="button" className="danger" disabled={busy} onClick={() => run(() => api.hangup(id))}>
          Hang up
        </button>
        <span className="muted" data-testid="call-state">
          {[state.onHold ? "On hold" : "Talking", state.muted ? "muted" : ""].filter(Boolean).join(", ")}
        </span>
      </div>
      <form
        className="row"
        aria-label="Transfer"
        onSubmit={(e) => {
          e.preventDefault();
          if (chosen) run(() => api.transfer(id, chosen));
        }}
      >
        <label>
          Transfer to queue{" "}
          <select name="transfer-queue" value={chosen} onChange={(e) => setTarget(e.target.value)}>
            {targets.map((q) => (
              <option key={q} value={q}>
                {q}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={busy || !chosen}>
          Transfer
        </button>
      </form>
      <div className="row">
        <div className="keypad" role="group" aria-label="Keypad">
          {keypad.map((k) => (
            <button type="button" key={k} disabled={busy} onClick={() => send(k)} aria-label={`Send digit ${k}`}>
              {k}
            </button>
          ))}
        </div>
        <form
          className="inline"
          aria-label="Digits"
          onSubmit={(e) => {
            e.preventDefault();
            send(digits);
          }}
        >
          <label className="sr-only" htmlFor={`digits-${id}`}>
            Digits
          </label>
          <input id={`digits-${id}`} name="digits" placeholder="e.g. 1234#" value={digits} onChange={(e) => setDigits(e.target.value)} />
          <button type="submit" disabled={busy}>
            Send digits
          </button>
        </form>
        {sent && <span className="muted" data-testid="digits-sent">sent {sent}</span>}
      </div>
      <div className="row">
        <span className={`rec-state ${state.recording}`} data-testid="recording-state">
          {recordingStateLabels[state.recording]}
        </span>
        {recordingActions(state.recording, recordingPolicy).map((a) => (
          <button type="button" key={a} disabled={busy} onClick={() => run(() => api.recordingCommand(id, a))}>
            {recordingActionLabels[a]}
          </button>
        ))}
        {recordingPolicy === "never" && state.recording === "off" && (
          <span className="muted" data-testid="recording-policy">
            This queue is never recorded.
          </span>
        )}
      </div>
      {error && (
        <p className="error" role="alert" data-testid="call-error">
          {error}
        </p>
      )}
    </section>
  );
}
