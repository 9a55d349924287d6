// The Flows editor's steps: the flow's steps listed (with the number of the server's problems in
// each), and a form for the one chosen, of the fields and exits of its type (src/admin/flowSteps.ts).
// Each change is written at once into the flow's YAML text (comments kept), which the text area
// below shows and Check / Save send. Step types without a form are edited in that text.
import { useState } from "react";
import type { LocalProblem } from "../admin/entities";
import {
  checkStep,
  problemsOfStep,
  stepFormOf,
  stepsOf,
  stepTypes,
  targetKinds,
  writeStep,
  type StepField,
  type StepForm,
  type StepInfo,
} from "../admin/flowSteps";
import { FieldError } from "./AdminItems";

export function FlowSteps({
  text,
  readOnly,
  problems,
  selected,
  formKey,
  onSelect,
  onChange,
}: {
  text: string;
  readOnly: boolean;
  /** The server's problems, in the flow's own lines. */
  problems: LocalProblem[];
  selected: number | null;
  /** Changes when the text is edited by hand, so the form reads the step again. */
  formKey: number;
  onSelect: (index: number | null) => void;
  onChange: (text: string) => void;
}) {
  const steps = stepsOf(text);
  const step = selected === null ? undefined : steps[selected];
  return (
    <div className="flow-steps" data-testid="flow-steps">
      <div className="step-list" role="group" aria-label="Steps">
        {steps.map((s) => {
          const n = problemsOfStep(s, problems).length;
          return (
            <button
              type="button"
              key={`${s.index}-${s.id}`}
              data-step={s.id}
              className={n ? "bad" : undefined}
              aria-pressed={selected === s.index}
              onClick={() => onSelect(selected === s.index ? null : s.index)}
            >
              {s.id} <small>{s.type}</small>
              {n > 0 && <small> ({n} problem{n > 1 ? "s" : ""})</small>}
            </button>
          );
        })}
        {steps.length === 0 && <span className="muted">No steps can be read from the text below.</span>}
      </div>
      {step && (
        <StepEditor
          key={`${step.index}-${formKey}`}
          text={text}
          step={step}
          stepIds={steps.map((s) => s.id)}
          readOnly={readOnly}
          problems={problemsOfStep(step, problems)}
          onChange={onChange}
        />
      )}
    </div>
  );
}

function StepEditor({ text, step, stepIds, readOnly, problems, onChange }: {
  text: string;
  step: StepInfo;
  stepIds: string[];
  readOnly: boolean;
  problems: LocalProblem[];
  onChange: (text: string) => void;
}) {
  const read = stepFormOf(text, step.index);
  const [form, setForm] = useState<StepForm>(read?.form ?? {});
  const spec = stepTypes[step.type];
  const errors = checkStep(step.type, form, stepIds);
  const put = (patch: StepForm) => {
    const next = { ...form, ...patch };
    setForm(next);
    const current = stepFormOf(text, step.index);
    if (current) onChange(writeStep(text, step.index, step.type, current.form, next));
  };
  const exits = [...(spec?.next ? ["next"] : []), ...(spec?.exits ?? []).map((x) => `exit.${x}`)];
  return (
    <fieldset className="step-form" disabled={readOnly} aria-label={`Step ${step.id}`} data-testid="step-form">
      <legend>
        Step {step.id} <span className="muted">({step.type}, lines {step.from}-{step.to})</span>
      </legend>
      {!spec && <p className="muted">A {step.type || "step without a type"} step has no form here: edit it in the YAML text below.</p>}
      {spec && (
        <div className="form-grid">
          {spec.fields.map((f) =>
            read?.complex.includes(f.key) ? (
              <p key={f.key} className="muted">
                {f.label}: more than one line's worth; edit it in the YAML text below.
              </p>
            ) : f.kind === "target" ? (
              <Target key={f.key} form={form} errors={errors} put={put} />
            ) : (
              <Field key={f.key} field={f} value={form[f.key] ?? ""} errors={errors} put={put} />
            ),
          )}
          {exits.map((k) => (
            <label key={k} className={errors[k] ? "invalid" : undefined}>
              <span>{k === "next" ? "Next step" : `Exit ${k.slice(5)}`}</span>
              <select name={k} value={form[k] ?? ""} onChange={(e) => put({ [k]: e.target.value })}>
                <option value="">(end of the flow)</option>
                {(stepIds.includes(form[k] ?? "") || !form[k] ? stepIds : [form[k], ...stepIds]).map((id) => (
                  <option key={id} value={id}>{id}</option>
                ))}
              </select>
              <FieldError errors={errors} name={k} />
            </label>
          ))}
        </div>
      )}
      {problems.length > 0 && (
        <ul className="step-problems" role="alert" data-testid="step-problems">
          {problems.map((p, i) => (
            <li key={i}>
              line {p.line}: {p.message}
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}

function Field({ field, value, errors, put }: { field: StepField; value: string; errors: Record<string, string>; put: (p: StepForm) => void }) {
  return (
    <label className={errors[field.key] ? "invalid" : undefined}>
      <span>{field.label}</span>
      {field.kind === "flag" ? (
        <select name={field.key} value={value} onChange={(e) => put({ [field.key]: e.target.value })}>
          <option value="">(default)</option>
          <option value="true">yes</option>
          <option value="false">no</option>
        </select>
      ) : (
        <input name={field.key} value={value} aria-invalid={errors[field.key] ? true : undefined} onChange={(e) => put({ [field.key]: e.target.value })} />
      )}
      {field.hint && <small className="muted">{field.hint}</small>}
      <FieldError errors={errors} name={field.key} />
    </label>
  );
}

function Target({ form, errors, put }: { form: StepForm; errors: Record<string, string>; put: (p: StepForm) => void }) {
  return (
    <>
      <label>
        <span>Transfer to</span>
        <select name="to.kind" value={form["to.kind"] || "queue"} onChange={(e) => put({ "to.kind": e.target.value })}>
          {targetKinds.map((k) => (
            <option key={k} value={k}>{k}</option>
          ))}
        </select>
      </label>
      <label className={errors.to ? "invalid" : undefined}>
        <span>Target</span>
        <input name="to.value" value={form["to.value"] ?? ""} onChange={(e) => put({ "to.value": e.target.value })} />
        <FieldError errors={errors} name="to" />
      </label>
    </>
  );
}
