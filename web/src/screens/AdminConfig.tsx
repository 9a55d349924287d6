// The configuration document: the YAML text of the current version, the server's problems as
// line:column messages (choosing one selects its line, and the line numbers beside the text mark
// every line with a problem), a preview of the changes (a dry run) before saving, and the history.
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError } from "../api";
import { adminApi, problemsOf } from "../admin/api";
import { changeText, lineRange, problemLines, problemText } from "../admin/configText";
import type { ConfigChange, ConfigDocument, ConfigProblem } from "../admin/types";

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
  const gutter = useRef<HTMLDivElement>(null);

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

  const select = (line: number) => {
    const el = area.current;
    if (!el) return;
    const [start, end] = lineRange(el.value, line);
    el.focus();
    el.setSelectionRange(start, end);
  };

  const marked = new Set(problemLines(problems));
  const lineCount = text.split("\n").length;
  return (
    <div className="admin-config columns">
      <section className="card config-editor" aria-label="Configuration document">
        <h2>
          Configuration {doc && <small className="muted">version {doc.version}, applied by {doc.applied_by}</small>}
        </h2>
        {error && <p className="error" role="alert">{error}</p>}
        {problems.length > 0 && (
          <div className="problems" role="alert" data-testid="config-problems">
            <p>{problems.length} problem(s); nothing was changed:</p>
            <ul>
              {problems.map((p, i) => (
                <li key={i}>
                  <button type="button" className="link" onClick={() => select(p.line)}>
                    {problemText(p)}
                  </button>
                </li>
              ))}
            </ul>
          </div>
        )}
        <div className="code">
          <div className="gutter" ref={gutter} aria-hidden="true">
            {Array.from({ length: lineCount }, (_, i) => (
              <div key={i} className={marked.has(i + 1) ? "bad-line" : undefined} data-line={i + 1}>
                {i + 1}
              </div>
            ))}
          </div>
          <textarea
            ref={area}
            name="yaml"
            aria-label="Configuration YAML"
            spellCheck={false}
            value={text}
            wrap="off"
            onScroll={(e) => {
              if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
            }}
            onChange={(e) => {
              setText(e.target.value);
              setPreview(null);
            }}
          />
        </div>
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
