// The structured editors' shell: the configuration document read once per tab
// (GET /api/v1/config: its text and version), a list of one section's items with add, edit and
// remove, and applying an edit (the document edited through src/admin/configDoc.ts, then
// PUT /api/v1/config with the version it was read at). "Check" is the server's dry run; a
// refusal lists the server's problems with their line, a concurrent change (409) reloads.
import { useCallback, useEffect, useState, type ReactNode } from "react";
import { ApiError } from "../api";
import { adminApi } from "../admin/api";
import { applyText, type Outcome } from "../admin/apply";
import { ConfigText, type Fields } from "../admin/configDoc";
import { changeText, lineRange } from "../admin/configText";
import { contextOf, type Context, type EntitySpec, type Errors } from "../admin/entities";
import { EditActions, ProblemList, type ProblemItem } from "./ConfigParts";

function message(e: unknown): string {
  return e instanceof ApiError ? e.message : "The server cannot be reached.";
}

export interface LoadedConfig {
  version: number;
  text: ConfigText;
}

/** The current configuration document of one tab, re-read after every apply. */
export function useConfig() {
  const [config, setConfig] = useState<LoadedConfig | null>(null);
  const [error, setError] = useState("");
  const reload = useCallback(() => {
    adminApi
      .config()
      .then((d) => {
        const t = ConfigText.parse(d.yaml ?? "");
        if (t instanceof ConfigText) {
          setConfig({ version: d.version, text: t });
          setError("");
        } else {
          setError(`The configuration cannot be edited here (${t.error}); use the Configuration tab.`);
        }
      })
      .catch((e) => setError(message(e)));
  }, []);
  useEffect(reload, [reload]);
  return { config, error, reload };
}

/** The outcome of a save or a check: the change list, the problems with their lines, or an error. */
export function OutcomeView({ outcome, testid, problems }: {
  outcome: Outcome | null;
  testid: string;
  /** The problems as the editor shows them (default: each with its line of the document sent). */
  problems?: ProblemItem[];
}) {
  if (!outcome) return <span role="status" data-testid={`${testid}-status`} />;
  if (outcome.kind === "applied") return <span role="status" data-testid={`${testid}-status`}>{outcome.text}</span>;
  if (outcome.kind === "error") return <p className="error" role="alert" data-testid={`${testid}-error`}>{outcome.text}</p>;
  if (outcome.kind === "checked") {
    return (
      <div className="preview" role="status" data-testid={`${testid}-check`}>
        {outcome.changes.length === 0 ? (
          <p>The server accepts it: no changes.</p>
        ) : (
          <>
            <p>The server accepts it. Saving makes {outcome.changes.length} change(s):</p>
            <pre>{outcome.changes.map(changeText).join("\n")}</pre>
          </>
        )}
      </div>
    );
  }
  const items: ProblemItem[] =
    problems ??
    outcome.problems.map((p) => {
      const [a, b] = p.line > 0 ? lineRange(outcome.sent, p.line) : [0, 0];
      return {
        text: (
          <>
            {p.line > 0 && <>line {p.line}: </>}
            {p.message}
            {p.line > 0 && (
              <>
                {" "}
                <code className="problem-line">{outcome.sent.slice(a, b).trim()}</code>
              </>
            )}
          </>
        ),
      };
    });
  return (
    <ProblemList
      testid={`${testid}-problems`}
      heading={`The server refused it (${items.length} problem(s)); nothing was changed:`}
      problems={items}
    />
  );
}

/** A form's own check message next to its field. */
export function FieldError({ errors, name }: { errors: Errors; name: string }) {
  const m = errors[name];
  if (!m) return null;
  return (
    <span className="field-error" role="alert" data-testid={`error-${name}`}>
      {m}
    </span>
  );
}

export interface FormProps<F> {
  form: F;
  set: (f: F) => void;
  errors: Errors;
  ctx: Context;
}

interface Props<F> {
  spec: EntitySpec<F>;
  title: string;
  loaded: ReturnType<typeof useConfig>;
  readOnly: boolean;
  /** The list's columns: a heading and a cell from the item's fields. */
  columns: { title: string; cell: (item: Fields) => ReactNode }[];
  Form: (p: FormProps<F>) => ReactNode;
}

/** One section's items as a table, and the form of the item chosen or added. */
export function ItemsEditor<F>({ spec, title, loaded, readOnly, columns, Form }: Props<F>) {
  const { config, error, reload } = loaded;
  const [editing, setEditing] = useState<{ id: string | null; before: Fields; form: F } | null>(null);
  const [errors, setErrors] = useState<Errors>({});
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);
  const testid = spec.section.replace(/_/g, "-");

  if (!config) {
    return (
      <section className="card" aria-label={title}>
        <h2>{title}</h2>
        {error ? <p className="error" role="alert">{error}</p> : <p className="muted">Loading…</p>}
      </section>
    );
  }
  const items = config.text.items(spec.section, spec.idKey);
  const ids = items.map((i) => String(i[spec.idKey] ?? ""));
  const ctx = contextOf((s, k) => config.text.items(s, k));

  const open = (item: Fields | null) => {
    const form = item ? spec.formOf(item) : spec.empty();
    setEditing({ id: item ? String(item[spec.idKey]) : null, before: item ? spec.fieldsOf(form) : {}, form });
    setErrors({});
    setOutcome(null);
  };

  const submit = async (dryRun: boolean) => {
    if (!editing) return;
    const local = spec.check(editing.form, ctx, ids);
    setErrors(local);
    setOutcome(null);
    if (Object.keys(local).length > 0) return;
    const edited = config.text.clone();
    const fields = spec.fieldsOf(editing.form);
    const refused = edited.upsert(spec.section, spec.idKey, editing.id, editing.before, fields);
    if (refused) {
      setErrors({ [spec.idKey]: refused });
      return;
    }
    // A rename is carried into the places that name the item, in the same version.
    const id = String(fields[spec.idKey]);
    const carried = editing.id !== null && editing.id !== id ? edited.renameReferences(spec.section, editing.id, id) : 0;
    setBusy(true);
    const r = await applyText(edited.toString(), config.version, dryRun, reload);
    setBusy(false);
    setOutcome(r);
    if (r.kind === "applied") {
      setEditing(null);
      const renamed = carried > 0 ? ` (${carried} reference(s) to ${editing.id} renamed)` : "";
      setOutcome({ kind: "applied", text: `${r.text.replace(/^Saved/, `${spec.noun[0].toUpperCase()}${spec.noun.slice(1)} ${id} saved`)}${renamed}` });
    }
  };

  const remove = async () => {
    if (!editing?.id) return;
    const edited = config.text.clone();
    edited.remove(spec.section, spec.idKey, editing.id);
    setBusy(true);
    const r = await applyText(edited.toString(), config.version, false, reload);
    setBusy(false);
    setOutcome(r);
    if (r.kind === "applied") setEditing(null);
  };

  return (
    <section className="card config-items" aria-label={title} data-testid={`items-${testid}`}>
      <h2>
        {title} <small className="muted">configuration version {config.version}</small>
      </h2>
      {readOnly && <p className="muted">Read only: administrators change the configuration.</p>}
      <table data-testid={`table-${testid}`}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.title}>{c.title}</th>
            ))}
            <th />
          </tr>
        </thead>
        <tbody>
          {items.length === 0 && (
            <tr>
              <td colSpan={columns.length + 1} className="muted">None configured.</td>
            </tr>
          )}
          {items.map((item, i) => (
            <tr key={`${ids[i]}-${i}`} data-item={ids[i]} aria-current={editing?.id === ids[i] ? "true" : undefined}>
              {columns.map((c) => (
                <td key={c.title}>{c.cell(item)}</td>
              ))}
              <td>
                <button type="button" className="link" onClick={() => open(item)} aria-label={`${readOnly ? "Show" : "Edit"} ${spec.noun} ${ids[i]}`}>
                  {readOnly ? "Show" : "Edit"}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!readOnly && !editing && (
        <div className="actions">
          <button type="button" onClick={() => open(null)} data-testid={`add-${testid}`}>
            Add {spec.noun}
          </button>
        </div>
      )}
      {editing && (
        <form
          className="item-form"
          aria-label={editing.id === null ? `New ${spec.noun}` : `${spec.noun} ${editing.id}`}
          data-testid={`form-${testid}`}
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void submit(false);
          }}
        >
          <h3>{editing.id === null ? `New ${spec.noun}` : `${spec.noun[0].toUpperCase()}${spec.noun.slice(1)} ${editing.id}`}</h3>
          <fieldset disabled={readOnly} className="plain">
            <Form form={editing.form} set={(form) => setEditing({ ...editing, form })} errors={errors} ctx={ctx} />
          </fieldset>
          <EditActions
            key={editing.id ?? ""}
            readOnly={readOnly}
            busy={busy}
            removable={editing.id}
            onCheck={() => void submit(true)}
            onRemove={() => void remove()}
            onCancel={() => {
              setEditing(null);
              setErrors({});
              setOutcome(null);
            }}
          />
        </form>
      )}
      <OutcomeView outcome={outcome} testid={testid} />
    </section>
  );
}
