// The flows tab: the configuration's contact flows listed, and one flow edited as its own YAML
// text (docs/flows.md) with line numbers. "Check" and "Save" put the text in place of the flow in
// the configuration document and send it (src/admin/apply.ts); the server's messages are shown
// with the flow's own line numbers, which are marked beside the text and selected when chosen.
import { useRef, useState } from "react";
import { applyText, type Outcome } from "../admin/apply";
import { changeText, lineRange } from "../admin/configText";
import { newFlowText, problemsIn, textLines } from "../admin/entities";
import { useConfig } from "./AdminItems";

const str = (v: unknown) => (v === undefined || v === null ? "" : String(v));

export function AdminFlows({ readOnly }: { readOnly: boolean }) {
  const { config, error, reload } = useConfig();
  const [editing, setEditing] = useState<{ id: string | null; text: string } | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [start, setStart] = useState(0);
  const [local, setLocal] = useState("");
  const [confirming, setConfirming] = useState(false);
  const area = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);

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
    setConfirming(false);
  };

  const select = (line: number) => {
    const el = area.current;
    if (!el || line <= 0) return;
    const [a, b] = lineRange(el.value, line);
    el.focus();
    el.setSelectionRange(a, b);
  };

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
    const r = await applyText(edited.toString(), config.version, dryRun, reload);
    setOutcome(r);
    if (r.kind === "problems") {
      const mine = problemsIn(r.problems, at, textLines(editing.text));
      const first = mine.find((p) => p.inItem);
      if (first) select(first.line);
    }
    if (r.kind === "applied") {
      setEditing(null);
      setOutcome({ kind: "applied", text: r.text.replace(/^Saved/, `Flow ${name} saved`) });
    }
  };

  const remove = async () => {
    if (!editing?.id) return;
    if (!confirming) {
      setConfirming(true);
      return;
    }
    setConfirming(false);
    const edited = config.text.clone();
    edited.remove("flows", "name", editing.id);
    const r = await applyText(edited.toString(), config.version, false, reload);
    setOutcome(r);
    if (r.kind === "applied") setEditing(null);
  };

  const lineCount = editing ? editing.text.split("\n").length : 0;
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
          <p className="muted">The flow as YAML: name, description, start, steps (docs/flows.md lists the step types).</p>
          <div className="code flow-code">
            <div className="gutter" ref={gutter} aria-hidden="true">
              {Array.from({ length: lineCount }, (_, i) => (
                <div key={i} className={marked.has(i + 1) ? "bad-line" : undefined} data-line={i + 1}>
                  {i + 1}
                </div>
              ))}
            </div>
            <textarea
              ref={area}
              name="flow"
              aria-label="Flow YAML"
              spellCheck={false}
              wrap="off"
              readOnly={readOnly}
              value={editing.text}
              onScroll={(e) => {
                if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
              }}
              onChange={(e) => setEditing({ ...editing, text: e.target.value })}
            />
          </div>
          {local && <p className="field-error" role="alert" data-testid="error-flow">{local}</p>}
          <div className="actions">
            {!readOnly && (
              <>
                <button type="submit">Save</button>
                <button type="button" onClick={() => void submit(true)}>Check</button>
                {editing.id !== null && (
                  <button type="button" className="danger" onClick={() => void remove()}>
                    {confirming ? `Confirm removal of ${editing.id}` : "Remove"}
                  </button>
                )}
              </>
            )}
            <button type="button" className="link" onClick={() => { setEditing(null); setOutcome(null); setLocal(""); }}>
              {readOnly ? "Close" : "Cancel"}
            </button>
          </div>
        </form>
      )}
      {outcome?.kind === "problems" ? (
        <div className="problems" role="alert" data-testid="flows-problems">
          <p>The server refused it ({problems.length} problem(s)); nothing was changed:</p>
          <ul>
            {problems.map((p, i) => (
              <li key={i}>
                {p.inItem ? (
                  <button type="button" className="link" onClick={() => select(p.line)}>
                    line {p.line}: {p.message}
                  </button>
                ) : (
                  <>elsewhere in the configuration, line {p.line}: {p.message}</>
                )}
              </li>
            ))}
          </ul>
        </div>
      ) : outcome?.kind === "checked" ? (
        <div className="preview" role="status" data-testid="flows-check">
          <p>The server accepts it. Saving makes {outcome.changes.length} change(s):</p>
          <pre>{outcome.changes.map(changeText).join("\n")}</pre>
        </div>
      ) : outcome?.kind === "error" ? (
        <p className="error" role="alert" data-testid="flows-error">{outcome.text}</p>
      ) : (
        <span role="status" data-testid="flows-status">{outcome?.kind === "applied" ? outcome.text : ""}</span>
      )}
    </section>
  );
}
