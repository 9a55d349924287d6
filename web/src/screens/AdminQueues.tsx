// The queue list and the queue editor: strategy, service-level target and threshold, priority,
// timeouts, wrap-up and escalation steps, saved through PUT /api/v1/config/queues/{queue}. The
// server validates the whole configuration again; its messages appear next to their fields.
import { useCallback, useEffect, useState } from "react";
import { api, ApiError } from "../api";
import { adminApi, problemsOf } from "../admin/api";
import {
  buildEdit,
  changesSomething,
  emptyStep,
  formFrom,
  problemsByField,
  strategies,
  type FormField,
  type QueueForm,
  type StepForm,
} from "../admin/queueForm";
import { changeText } from "../admin/configText";
import type { Queue } from "../types";

function message(e: unknown): string {
  return e instanceof ApiError ? e.message : "The server cannot be reached.";
}

export function AdminQueues() {
  const [queues, setQueues] = useState<Queue[]>([]);
  const [selected, setSelected] = useState("");
  const [error, setError] = useState("");
  useEffect(() => {
    api
      .queues()
      .then((q) => {
        setQueues(q);
        if (q.length > 0) setSelected((s) => s || q[0].name);
      })
      .catch((e) => setError(message(e)));
  }, []);
  return (
    <div className="admin-queues columns">
      <nav className="card queue-list" aria-label="Queues">
        <h2>Queues</h2>
        {error && <p className="error" role="alert">{error}</p>}
        <ul>
          {queues.map((q) => (
            <li key={q.name}>
              <button
                type="button"
                className="link"
                aria-current={q.name === selected ? "true" : undefined}
                data-testid={`edit-queue-${q.name}`}
                onClick={() => setSelected(q.name)}
              >
                {q.name}
              </button>
              <span className="muted"> {q.channels.join(", ")}</span>
            </li>
          ))}
        </ul>
      </nav>
      {selected && <QueueEditor key={selected} name={selected} />}
    </div>
  );
}

function FieldMessages({ errors, name }: { errors: Record<string, string[]>; name: FormField }) {
  const list = errors[name];
  if (!list?.length) return null;
  return (
    <span className="field-error" role="alert" data-testid={`problem-${name}`}>
      {list.join("; ")}
    </span>
  );
}

function QueueEditor({ name }: { name: string }) {
  const [version, setVersion] = useState(0);
  const [original, setOriginal] = useState<QueueForm | null>(null);
  const [form, setForm] = useState<QueueForm | null>(null);
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [status, setStatus] = useState("");
  const [busy, setBusy] = useState(false);

  const load = useCallback(() => {
    adminApi
      .queue(name)
      .then((s) => {
        const f = formFrom(s);
        setVersion(s.version);
        setOriginal(f);
        setForm(f);
      })
      .catch((e) => setErrors({ "": [message(e)] }));
  }, [name]);
  useEffect(load, [load]);

  if (!form || !original) {
    return <div className="card">{errors[""]?.map((m) => <p key={m} className="error">{m}</p>) ?? "Loading…"}</div>;
  }
  const set = (patch: Partial<QueueForm>) => setForm({ ...form, ...patch });
  const setStep = (i: number, patch: Partial<StepForm>) =>
    set({ escalation: form.escalation.map((s, j) => (j === i ? { ...s, ...patch } : s)) });

  const save = async (ev: React.FormEvent) => {
    ev.preventDefault();
    setStatus("");
    const built = buildEdit(form, original, version);
    const local: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(built.errors)) local[k] = [v as string];
    setErrors(local);
    if (Object.keys(local).length > 0) return;
    if (!changesSomething(built)) {
      setStatus("Nothing to save: no field changed.");
      return;
    }
    setBusy(true);
    try {
      const r = await adminApi.editQueue(name, built.body);
      setStatus(`Saved as configuration version ${r.version}: ${r.changes.map(changeText).join(", ")}`);
      load();
    } catch (e) {
      const problems = problemsOf(e);
      if (problems.length > 0) setErrors(problemsByField(problems));
      else setErrors({ "": [message(e)] });
    } finally {
      setBusy(false);
    }
  };

  const text = (label: string, field: FormField, key: keyof QueueForm, hint?: string) => (
    <label className={errors[field] ? "invalid" : undefined}>
      <span>{label}</span>
      <input
        name={key}
        value={form[key] as string}
        aria-invalid={errors[field] ? true : undefined}
        onChange={(e) => set({ [key]: e.target.value } as Partial<QueueForm>)}
      />
      {hint && <small className="muted">{hint}</small>}
      <FieldMessages errors={errors} name={field} />
    </label>
  );

  return (
    <form className="card queue-editor" aria-label={`Queue ${name}`} data-testid="queue-editor" onSubmit={save}>
      <h2>
        Queue {name} <small className="muted">configuration version {version}</small>
      </h2>
      {errors[""]?.map((m) => (
        <p key={m} className="error" role="alert">{m}</p>
      ))}
      <div className="form-grid">
        <label className={errors.strategy ? "invalid" : undefined}>
          <span>Strategy</span>
          <select name="strategy" value={form.strategy} onChange={(e) => set({ strategy: e.target.value })}>
            {(strategies.includes(form.strategy) ? strategies : [form.strategy, ...strategies]).map((s) => (
              <option key={s} value={s}>{s}</option>
            ))}
          </select>
          <FieldMessages errors={errors} name="strategy" />
        </label>
        <fieldset className={errors.service_level ? "invalid" : undefined}>
          <legend>Service level</legend>
          <label>
            <span>Target (%)</span>
            <input name="sl_target_percent" value={form.sl_target_percent} onChange={(e) => set({ sl_target_percent: e.target.value })} />
          </label>
          <label>
            <span>Answered within (s)</span>
            <input name="sl_seconds" value={form.sl_seconds} onChange={(e) => set({ sl_seconds: e.target.value })} />
          </label>
          <FieldMessages errors={errors} name="service_level" />
        </fieldset>
        {text("Priority", "priority", "priority", "higher is served first")}
        {text("Max wait (s)", "max_wait", "max_wait", "0 = unlimited")}
        {text("Max size", "max_size", "max_size", "0 = unlimited")}
        {text("Offer timeout (s)", "offer_timeout", "offer_timeout")}
        {text("Wrap-up (s)", "wrap_up", "wrap_up")}
      </div>
      <fieldset className={errors.escalation ? "invalid escalation" : "escalation"}>
        <legend>Escalation</legend>
        <FieldMessages errors={errors} name="escalation" />
        {form.escalation.length === 0 && <p className="muted">No escalation steps.</p>}
        {form.escalation.map((s, i) => (
          <div className="step" key={i} data-testid={`step-${i}`}>
            <label><span>After (s)</span><input value={s.after} onChange={(e) => setStep(i, { after: e.target.value })} /></label>
            <label><span>Skills</span><input value={s.skills} placeholder="sales:1" onChange={(e) => setStep(i, { skills: e.target.value })} /></label>
            <label><span>Teams</span><input value={s.teams} placeholder="north, south" onChange={(e) => setStep(i, { teams: e.target.value })} /></label>
            <label><span>Priority boost</span><input value={s.priority_boost} onChange={(e) => setStep(i, { priority_boost: e.target.value })} /></label>
            <label><span>Overflow to</span><input value={s.overflow} onChange={(e) => setStep(i, { overflow: e.target.value })} /></label>
            <label><span>Flow</span><input value={s.flow} onChange={(e) => setStep(i, { flow: e.target.value })} /></label>
            <button type="button" className="link" onClick={() => set({ escalation: form.escalation.filter((_, j) => j !== i) })}>
              Remove
            </button>
          </div>
        ))}
        <button type="button" onClick={() => set({ escalation: [...form.escalation, emptyStep()] })}>
          Add a step
        </button>
      </fieldset>
      <div className="actions">
        <button type="submit" disabled={busy}>Save</button>
        <button type="button" className="link" onClick={() => { setForm(original); setErrors({}); setStatus(""); }}>
          Undo changes
        </button>
        <span role="status" data-testid="queue-status">{status}</span>
      </div>
    </form>
  );
}
