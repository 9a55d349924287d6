// Click-to-dial on the agent desktop (docs/voice.md, "Outbound calls"): a number field with a dial
// pad, the queue the call belongs to, and Call (POST /api/v1/calls); a callback contact being
// handled offers "Call back" with its number. A number the server would refuse is refused here;
// the server's answer (the call placed, or its refusal in its words) appears beside the form.
import { useState } from "react";
import { api, ApiError } from "../api";
import { dialPad, dialRequest, dialedText } from "../dial";

export interface Callback {
  contact: string;
  number: string;
  queue: string;
}

export function Dialer({
  queues,
  callbacks,
  onPlaced,
}: {
  /** The queues taking voice (empty when the user may not read queues: the queue is typed). */
  queues: string[];
  /** Callback contacts being handled, with the number each asks to be called on. */
  callbacks: Callback[];
  onPlaced: () => void;
}) {
  const [number, setNumber] = useState("");
  const [queue, setQueue] = useState("");
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<{ ok: boolean; text: string } | null>(null);
  const chosenQueue = queues.length && !queues.includes(queue) ? queues[0] : queue;

  const dial = async (n: string, q: string) => {
    const req = dialRequest(n, q);
    if ("problem" in req) {
      setAnswer({ ok: false, text: req.problem });
      return;
    }
    setBusy(true);
    setAnswer(null);
    try {
      const c = await api.placeCall(req);
      setAnswer({ ok: true, text: dialedText(c, req.number) });
      setNumber("");
      onPlaced();
    } catch (e) {
      setAnswer({ ok: false, text: e instanceof ApiError ? e.message : "The server cannot be reached." });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card dialer" aria-label="Call a number" data-testid="dialer">
      <form
        className="row"
        aria-label="Click to dial"
        onSubmit={(e) => {
          e.preventDefault();
          dial(number, chosenQueue);
        }}
      >
        <label>
          Number{" "}
          <input
            name="dial-number"
            type="tel"
            inputMode="tel"
            autoComplete="off"
            placeholder="+15551234567"
            value={number}
            onChange={(e) => setNumber(e.target.value)}
          />
        </label>
        <label>
          Queue{" "}
          {queues.length ? (
            <select name="dial-queue" value={chosenQueue} onChange={(e) => setQueue(e.target.value)}>
              {queues.map((q) => (
                <option key={q} value={q}>
                  {q}
                </option>
              ))}
            </select>
          ) : (
            <input name="dial-queue" value={queue} onChange={(e) => setQueue(e.target.value)} />
          )}
        </label>
        <button type="submit" className="primary" disabled={busy}>
          Call
        </button>
        {callbacks.map((cb) => (
          <button
            type="button"
            key={cb.contact}
            disabled={busy}
            onClick={() => {
              const q = queues.includes(cb.queue) ? cb.queue : chosenQueue;
              setNumber(cb.number);
              setQueue(q);
              dial(cb.number, q);
            }}
          >
            Call back {cb.number}
          </button>
        ))}
      </form>
      <div className="keypad" role="group" aria-label="Dial pad">
        {dialPad.map((k) => (
          <button type="button" key={k} disabled={busy} aria-label={`Dial ${k}`} onClick={() => setNumber((n) => n + k)}>
            {k}
          </button>
        ))}
        <button type="button" disabled={busy || !number} aria-label="Delete the last digit" onClick={() => setNumber((n) => n.slice(0, -1))}>
          ⌫
        </button>
      </div>
      {answer && (
        <p className={answer.ok ? "muted" : "error"} role={answer.ok ? "status" : "alert"} data-testid="dial-answer">
          {answer.text}
        </p>
      )}
    </section>
  );
}
