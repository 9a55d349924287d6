// The configuration document: the YAML text of the current version, the server's problems as
// line:column messages (choosing one selects its line, and the line numbers beside the text mark
// every line with a problem), a preview of the changes (a dry run) before saving, and the history.
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError } from "../api";
import { adminApi, problemsOf } from "../admin/api";
import { changeText, problemLines, problemText } from "../admin/configText";
import type { ConfigChange, ConfigDocument, ConfigProblem } from "../admin/types";
import { CodeArea, ProblemList, selectLine } from "./ConfigParts";

function message(e: unknown): string {
  return e instanceof ApiError ? e.message : "The server cannot be reached.";
}

export function AdminConfig() {
  const [doc, setDoc] = useState<ConfigDocument | null>(null);
  const [text, setText] = useState("");
  const [problems, setProblems] = useState<ConfigProblem[]>([]);
  const [preview, setPreview] = useState<ConfigChange[] | null>(null);
  const [history, setHistory] = useState<ConfigDocument[]>([]);
  const [status, setStatus] = useState("");
  const [error, setError] = useState("");
  const area = useRef<HTMLTextAreaElement>(null);

  const load = useCallback(() => {
    adminApi
      .config()
      .then((d) => {
        setDoc(d);
        setText(d.yaml ?? "");
      })
      .catch((e) => setError(message(e)));
    adminApi.history().then(setHistory).catch(() => undefined);
  }, []);
  useEffect(load, [load]);

  const submit = async (dryRun: boolean) => {
    if (!doc) return;
    setError("");
    setStatus("");
    try {
      const r = await adminApi.applyConfig(text, doc.version, dryRun);
      setProblems([]);
      if (dryRun) {
        setPreview(r.changes);
      } else {
        setPreview(null);
        setStatus(r.applied ? `Applied as version ${r.version}.` : "No changes: nothing was applied.");
        load();
      }
    } catch (e) {
      const p = problemsOf(e);
      setPreview(null);
      if (p.length > 0) {
        setProblems(p);
        if (p[0].line > 0) select(p[0].line);
      } else {
        setError(message(e));
      }
    }
  };

  const select = (line: number) => selectLine(area.current, line);

  return (
    <div className="admin-config columns">
      <section className="card config-editor" aria-label="Configuration document">
        <h2>
          Configuration {doc && <small className="muted">version {doc.version}, applied by {doc.applied_by}</small>}
        </h2>
        {error && <p className="error" role="alert">{error}</p>}
        {problems.length > 0 && (
          <ProblemList
            testid="config-problems"
            heading={`${problems.length} problem(s); nothing was changed:`}
            problems={problems.map((p) => ({ text: problemText(p), onSelect: () => select(p.line) }))}
          />
        )}
        <CodeArea
          areaRef={area}
          name="yaml"
          label="Configuration YAML"
          text={text}
          marked={new Set(problemLines(problems))}
          onChange={(t) => {
            setText(t);
            setPreview(null);
          }}
        />
        <div className="actions">
          <button type="button" onClick={() => submit(true)}>Preview changes</button>
          <button type="button" disabled={preview === null || preview.length === 0} onClick={() => submit(false)}>
            Apply
          </button>
          <button type="button" className="link" onClick={() => { load(); setProblems([]); setPreview(null); }}>
            Reload
          </button>
          <span role="status" data-testid="config-status">{status}</span>
        </div>
        {preview && (
          <div className="preview" data-testid="config-preview">
            {preview.length === 0 ? (
              <p>No changes against version {doc?.version}.</p>
            ) : (
              <>
                <p>Applying makes {preview.length} change(s):</p>
                <pre>{preview.map(changeText).join("\n")}</pre>
              </>
            )}
          </div>
        )}
      </section>
      <section className="card" aria-label="History">
        <h2>History</h2>
        <table>
          <thead>
            <tr><th>Version</th><th>Applied</th><th>By</th><th>Comment</th></tr>
          </thead>
          <tbody>
            {history.map((h) => (
              <tr key={h.version}>
                <td>{h.version}</td>
                <td>{h.applied_at?.replace("T", " ").replace(/\.\d+Z$/, "Z")}</td>
                <td>{h.applied_by}</td>
                <td>{h.comment}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
