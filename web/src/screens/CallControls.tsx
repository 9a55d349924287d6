// Call control for a voice contact the agent handles (docs/voice.md, "Call control",
// "Consultation transfer", "Conference" and "Recording"): hold/resume, mute/unmute, hang up, blind
// transfer to a queue, an agent or a number, consultation of an agent or a queue (then complete, conference or cancel), a DTMF
// keypad and the recording commands its state allows. The buttons show the contact as last read or as the
// server's reply carried it; the server's refusals (409, 422) appear next to the buttons.
import { useEffect, useState, type ReactNode } from "react";
import { api, ApiError } from "../api";
import {
  callState,
  consultButtons,
  consultCandidates,
  consultOfContact,
  consultText,
  keypad,
  normalDigits,
  recordingActionLabels,
  recordingActions,
  recordingStateLabels,
} from "../callControl";
import {
  consultBody,
  consultKinds,
  transferBody,
  transferKindLabels,
  type TransferBody,
  type TransferKind,
} from "../dial";
import type { Contact } from "../types";

type ConsultStep = "complete" | "cancel" | "conference";
const consultStepLabels: Record<ConsultStep, string> = {
  complete: "Complete transfer",
  conference: "Conference",
  cancel: "Cancel",
};

function message(e: unknown): string {
  return e instanceof ApiError ? e.message : "The server cannot be reached.";
}

export function CallControls({
  id,
  contact,
  queues,
  recordingPolicy,
  agentId,
  notice,
  onReply,
}: {
  id: string;
  /** The desktop's agent (left out of the consultation picker). */
  agentId: string;
  /** Why the last consultation ended (from the event stream), shown until the next command. */
  notice?: string;
  contact?: Contact;
  /** Queues that take voice: a call may be transferred to the others and consult any. */
  queues: string[];
  /** The contact's queue's recording policy (GET /api/v1/queues), when known. */
  recordingPolicy?: string;
  /** The contact as the server's reply shows it (or undefined when the call left the agent). */
  onReply: (c?: Contact) => void;
}) {
  const state = callState(contact);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [digits, setDigits] = useState("");
  const [sent, setSent] = useState("");
  const consult = consultOfContact(contact);
  const buttons = consultButtons(consult);
  // The consultation picker (an agent or a queue), open after Consult….
  const [picking, setPicking] = useState(false);
  const targets = queues.filter((q) => q !== contact?.queue);

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
          disabled={busy || !buttons.hold}
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
          {[state.onHold ? (consult ? "On hold (consultation)" : "On hold") : "Talking", state.muted ? "muted" : ""]
            .filter(Boolean)
            .join(", ")}
        </span>
      </div>
      <TargetForm
        id={id}
        prefix="transfer"
        className="row"
        label="Transfer to"
        kinds={Object.keys(transferKindLabels) as TransferKind[]}
        queues={targets}
        agentId={agentId}
        handler={contact?.agent ?? ""}
        disabled={busy || !buttons.transfer}
        build={transferBody}
        onSend={(body) => run(() => api.transfer(id, body))}
        onProblem={setError}
      />
      <div className="row" role="group" aria-label="Consultation" data-testid="consult">
        {buttons.consult && !picking && (
          <button
            type="button"
            disabled={busy}
            onClick={() => {
              setError("");
              setPicking(true);
            }}
          >
            Consult…
          </button>
        )}
        {buttons.consult && picking && (
          <TargetForm
            id={id}
            prefix="consult"
            label="Consult"
            kinds={consultKinds}
            queues={queues}
            agentId={agentId}
            handler={contact?.agent ?? ""}
            disabled={busy}
            className="inline"
            build={consultBody}
            onSend={(body) =>
              run(
                () => api.consult(id, body),
                () => setPicking(false),
              )
            }
            onProblem={setError}
          >
            <button type="button" disabled={busy} onClick={() => setPicking(false)}>
              Close
            </button>
          </TargetForm>
        )}
        {consult && (
          <>
            <span className="muted" data-testid="consult-state">
              {consultText(consult)}
            </span>
            {(["complete", "conference", "cancel"] as ConsultStep[])
              .filter((s) => buttons[s])
              .map((s) => (
                <button
                  type="button"
                  key={s}
                  className={s === "complete" ? "primary" : ""}
                  disabled={busy}
                  onClick={() => run(() => api.consultStep(id, s))}
                >
                  {consultStepLabels[s]}
                </button>
              ))}
          </>
        )}
        {!consult && notice && (
          <span className="muted" data-testid="consult-notice">
            {notice}
          </span>
        )}
      </div>
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

/**
 * The target of a blind transfer or a consultation, as exactly one key of the body `build` gives:
 * a queue (among `queues`), an agent (picked among those a call reaches now, from GET
 * /api/v1/directory, read when Agent is chosen, or typed) or, for a transfer, an external number.
 * The first kind is chosen at first. Fields are named `<prefix>-kind`, `<prefix>-queue`,
 * `<prefix>-agent` and `<prefix>-number`.
 */
function TargetForm<K extends TransferKind, B extends TransferBody>({
  id,
  prefix,
  className,
  label,
  kinds,
  queues,
  agentId,
  handler,
  disabled,
  build,
  onSend,
  onProblem,
  children,
}: {
  id: string;
  prefix: "transfer" | "consult";
  className: string;
  /** The form's words: "Transfer to", "Consult" (also its submit button's, "to" left out). */
  label: string;
  kinds: readonly K[];
  queues: string[];
  /** The desktop's agent and the contact's, left out of the agents offered. */
  agentId: string;
  handler: string;
  disabled: boolean;
  build: (kind: K, value: string) => B | { problem: string };
  onSend: (body: B) => void;
  onProblem: (text: string) => void;
  /** More buttons after the submit one (the consultation's Close). */
  children?: ReactNode;
}) {
  const [kind, setKind] = useState<K>(kinds[0]);
  const [queue, setQueue] = useState("");
  const [agent, setAgent] = useState("");
  const [number, setNumber] = useState("");
  const [agents, setAgents] = useState<{ id: string; name: string }[] | null>(null);
  const chosenQueue = queues.includes(queue) ? queue : queues[0] ?? "";
  const loadAgents = async () => {
    try {
      const list = consultCandidates(await api.directory(), [agentId, handler]);
      setAgents(list);
      setAgent((v) => v || list[0]?.id || "");
    } catch (e) {
      onProblem(message(e));
    }
  };
  // A picker opening on Agent (the consultation's) lists the agents at once.
  useEffect(() => {
    if (kinds[0] === "agent") loadAgents();
  }, []); // once, when the form opens
  const choose = (k: K) => {
    setKind(k);
    if (k === "agent") loadAgents();
  };
  const value = kind === "queue" ? chosenQueue : kind === "agent" ? agent : number;
  const verb = label.replace(/ to$/, "");
  return (
    <form
      className={className}
      aria-label={verb}
      onSubmit={(e) => {
        e.preventDefault();
        const body = build(kind, value);
        if ("problem" in body) onProblem(body.problem);
        else onSend(body);
      }}
    >
      <label>
        {label}{" "}
        <select name={`${prefix}-kind`} value={kind} onChange={(e) => choose(e.target.value as K)}>
          {kinds.map((k) => (
            <option key={k} value={k}>
              {transferKindLabels[k]}
            </option>
          ))}
        </select>
      </label>
      {kind === "queue" && (
        <label>
          <span className="sr-only">{label} queue</span>
          <select name={`${prefix}-queue`} value={chosenQueue} onChange={(e) => setQueue(e.target.value)}>
            {queues.map((q) => (
              <option key={q} value={q}>
                {q}
              </option>
            ))}
          </select>
        </label>
      )}
      {kind === "agent" && (
        <>
          <label>
            <span className="sr-only">{label} agent</span>
            <input
              name={`${prefix}-agent`}
              list={`${prefix}-agents-${id}`}
              value={agent}
              placeholder="agent id"
              onChange={(e) => setAgent(e.target.value)}
            />
          </label>
          <datalist id={`${prefix}-agents-${id}`}>
            {(agents ?? []).map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </datalist>
        </>
      )}
      {kind === "number" && (
        <label>
          <span className="sr-only">{label} number</span>
          <input
            name={`${prefix}-number`}
            type="tel"
            inputMode="tel"
            placeholder="+15551234567"
            value={number}
            onChange={(e) => setNumber(e.target.value)}
          />
        </label>
      )}
      <button type="submit" disabled={disabled || !value.trim()}>
        {verb}
      </button>
      {children}
      {kind === "agent" && agents?.length === 0 && <span className="muted">No Available agent listed: type an agent id.</span>}
      {kind === "queue" && queues.length === 0 && <span className="muted">No queue taking voice is listed.</span>}
    </form>
  );
}
