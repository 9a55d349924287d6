// The flows tab: the configuration's contact flows listed, and one flow edited as its own YAML
// text (docs/flows.md) with line numbers. "Check" and "Save" put the text in place of the flow in
// the configuration document and send it (src/admin/apply.ts); the server's messages are shown
// with the flow's own line numbers, which are marked beside the text and selected when chosen,
// and at the step they fall in. Above the text, a form per step (FlowSteps.tsx) edits the text.
import { useRef, useState } from "react";
import { applyText, type Outcome } from "../admin/apply";
import { newFlowText, problemsIn, textLines } from "../admin/entities";
import { stepsOf } from "../admin/flowSteps";
import { OutcomeView, useConfig } from "./AdminItems";
import { CodeArea, EditActions, selectLine } from "./ConfigParts";
import { FlowSteps } from "./FlowSteps";

const str = (v: unknown) => (v === undefined || v === null ? "" : String(v));

export function AdminFlows({ readOnly }: { readOnly: boolean }) {
  const { config, error, reload } = useConfig();
  const [editing, setEditing] = useState<{ id: string | null; text: string } | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [start, setStart] = useState(0);
  const [local, setLocal] = useState("");
  const [busy, setBusy] = useState(false);
  // The step whose form is open, and a count of hand edits of the text (the form reads it again).
  const [step, setStep] = useState<number | null>(null);
  const [handEdits, setHandEdits] = useState(0);
  const area = useRef<HTMLTextAreaElement>(null);

  if (!config) {
    return (
      <section className="card" aria-label="Flows">
        <h2>Flows</h2>
        {error ? <p className="error" role="alert">{error}</p> : <p className="muted">Loading…</p>}
      </section>
    );
  }
  const flows = config.text.items("flows", "name");

  const open = (id: string | null) => {
    setEditing({ id, text: id === null ? newFlowText : config.text.itemText("flows", "name", id) ?? "" });
    setOutcome(null);
    setLocal("");
    setStep(null);
  };

  const select = (line: number) => selectLine(area.current, line);

  const submit = async (dryRun: boolean) => {
    if (!editing) return;
    setOutcome(null);
    const edited = config.text.clone();
    const refused = edited.replaceItem("flows", "name", editing.id, editing.text);
    setLocal(refused ?? "");
    if (refused) return;
    // The flow's name as the text gives it: at the edited flow's place, or last when added.
    const names = edited.ids("flows", "name");
    const name = editing.id === null ? names[names.length - 1] : names[config.text.ids("flows", "name").indexOf(editing.id)];
    const at = edited.itemLine("flows", "name", name);
    setStart(at);
    setBusy(true);
    const r = await applyText(edited.toString(), config.version, dryRun, reload);
    setBusy(false);
    setOutcome(r);
    if (r.kind === "problems") {
      const mine = problemsIn(r.problems, at, textLines(editing.text));
      const first = mine.find((p) => p.inItem);
      if (first) {
        // The step the first problem is in shows its form with the server's messages.
        const where = stepsOf(editing.text).find((s) => first.line >= s.from && first.line <= s.to);
        if (where) setStep(where.index);
        select(first.line);
      }
    }
    if (r.kind === "applied") {
      setEditing(null);
      setOutcome({ kind: "applied", text: r.text.replace(/^Saved/, `Flow ${name} saved`) });
    }
  };

  const remove = async () => {
    if (!editing?.id) return;
    const edited = config.text.clone();
    edited.remove("flows", "name", editing.id);
    setBusy(true);
    const r = await applyText(edited.toString(), config.version, false, reload);
    setBusy(false);
    setOutcome(r);
    if (r.kind === "applied") setEditing(null);
  };

  const problems = outcome?.kind === "problems" && editing ? problemsIn(outcome.problems, start, textLines(editing.text)) : [];
  const marked = new Set(problems.filter((p) => p.inItem).map((p) => p.line));

  return (
    <section className="card config-items" aria-label="Flows" data-testid="items-flows">
      <h2>
        Flows <small className="muted">configuration version {config.version}</small>
      </h2>
      {readOnly && <p className="muted">Read only: administrators change the configuration.</p>}
      <table data-testid="table-flows">
        <thead>
          <tr>
            <th>Name</th>
            <th>Description</th>
            <th>Steps</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {flows.length === 0 && (
            <tr>
              <td colSpan={4} className="muted">None configured.</td>
            </tr>
          )}
          {flows.map((f, i) => (
            <tr key={`${str(f.name)}-${i}`} data-item={str(f.name)} aria-current={editing?.id === str(f.name) ? "true" : undefined}>
              <td>{str(f.name)}</td>
              <td>{str(f.description)}</td>
              <td>{Array.isArray(f.steps) ? f.steps.length : 0}</td>
              <td>
                <button type="button" className="link" aria-label={`${readOnly ? "Show" : "Edit"} flow ${str(f.name)}`} onClick={() => open(str(f.name))}>
                  {readOnly ? "Show" : "Edit"}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!readOnly && !editing && (
        <div className="actions">
          <button type="button" data-testid="add-flows" onClick={() => open(null)}>Add flow</button>
        </div>
      )}
      {editing && (
        <form
          className="item-form config-editor"
          aria-label={editing.id === null ? "New flow" : `flow ${editing.id}`}
          data-testid="form-flows"
          onSubmit={(e) => {
            e.preventDefault();
            void submit(false);
          }}
        >
          <h3>{editing.id === null ? "New flow" : `Flow ${editing.id}`}</h3>
          <p className="muted">
            Choose a step to edit its fields, or edit the flow as YAML below: name, description, start, steps (docs/flows.md lists
            the step types).
          </p>
          <FlowSteps
            text={editing.text}
            readOnly={readOnly}
            problems={problems}
            selected={step}
            formKey={handEdits}
            onSelect={setStep}
            onChange={(text) => setEditing({ ...editing, text })}
          />
          <CodeArea
            areaRef={area}
            className="flow-code"
            name="flow"
            label="Flow YAML"
            text={editing.text}
            marked={marked}
            readOnly={readOnly}
            onChange={(text) => {
              setEditing({ ...editing, text });
              setHandEdits((n) => n + 1);
            }}
          />
          {local && <p className="field-error" role="alert" data-testid="error-flow">{local}</p>}
          <EditActions
            key={editing.id ?? ""}
            readOnly={readOnly}
            busy={busy}
            removable={editing.id}
            onCheck={() => void submit(true)}
            onRemove={() => void remove()}
            onCancel={() => {
              setEditing(null);
              setOutcome(null);
              setLocal("");
            }}
          />
        </form>
      )}
      <OutcomeView
        outcome={outcome}
        testid="flows"
        problems={problems.map((p) =>
          p.inItem
            ? { text: `line ${p.line}: ${p.message}`, onSelect: () => select(p.line) }
            : { text: `elsewhere in the configuration, line ${p.line}: ${p.message}` },
        )}
      />
    </section>
  );
}
