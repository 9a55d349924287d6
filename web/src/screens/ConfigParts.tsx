// The parts the configuration editors share (AdminItems.tsx, AdminFlows.tsx, AdminConfig.tsx):
// the server's problems as a list (choosing one selects its line), a YAML text area with line
// numbers that marks the lines with problems, and the Save / Check / Remove / Cancel buttons.
import { useRef, useState, type ReactNode, type RefObject } from "react";
import { lineRange } from "../admin/configText";

export interface ProblemItem {
  text: ReactNode;
  /** Selects the problem's line in the text, when it is in the text shown. */
  onSelect?: () => void;
}

/** The server's refusal: a heading and one entry per problem. */
export function ProblemList({ testid, heading, problems }: { testid: string; heading: string; problems: ProblemItem[] }) {
  return (
    <div className="problems" role="alert" data-testid={testid}>
      <p>{heading}</p>
      <ul>
        {problems.map((p, i) => (
          <li key={i}>
            {p.onSelect ? (
              <button type="button" className="link" onClick={p.onSelect}>
                {p.text}
              </button>
            ) : (
              p.text
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Focuses the text area and selects its 1-based `line`. */
export function selectLine(el: HTMLTextAreaElement | null, line: number) {
  if (!el || line <= 0) return;
  const [a, b] = lineRange(el.value, line);
  el.focus();
  el.setSelectionRange(a, b);
}

/** YAML text with line numbers beside it; the `marked` lines (with problems) stand out. */
export function CodeArea({
  areaRef,
  name,
  label,
  text,
  marked,
  readOnly,
  className,
  onChange,
}: {
  areaRef: RefObject<HTMLTextAreaElement>;
  name: string;
  label: string;
  text: string;
  marked: Set<number>;
  readOnly?: boolean;
  className?: string;
  onChange: (text: string) => void;
}) {
  const gutter = useRef<HTMLDivElement>(null);
  const lineCount = text.split("\n").length;
  return (
    <div className={className ? `code ${className}` : "code"}>
      <div className="gutter" ref={gutter} aria-hidden="true">
        {Array.from({ length: lineCount }, (_, i) => (
          <div key={i} className={marked.has(i + 1) ? "bad-line" : undefined} data-line={i + 1}>
            {i + 1}
          </div>
        ))}
      </div>
      <textarea
        ref={areaRef}
        name={name}
        aria-label={label}
        spellCheck={false}
        wrap="off"
        readOnly={readOnly}
        value={text}
        onScroll={(e) => {
          if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
        }}
        onChange={(e) => onChange(e.target.value)}
      />
    </div>
  );
}

/**
 * Save (the form's submit), Check (a dry run), Remove (asks once more: "Confirm removal of X")
 * and Cancel; a reader gets Close only.
 */
export function EditActions({
  readOnly,
  busy,
  removable,
  onCheck,
  onRemove,
  onCancel,
}: {
  readOnly: boolean;
  busy: boolean;
  /** The id of the item being edited, when it exists (a new item has nothing to remove). */
  removable: string | null;
  onCheck: () => void;
  onRemove: () => void;
  onCancel: () => void;
}) {
  const [confirming, setConfirming] = useState(false);
  return (
    <div className="actions">
      {!readOnly && (
        <>
          <button type="submit" disabled={busy}>Save</button>
          <button type="button" disabled={busy} onClick={onCheck}>Check</button>
          {removable !== null && (
            <button
              type="button"
              className="danger"
              disabled={busy}
              onClick={() => {
                setConfirming(!confirming);
                if (confirming) onRemove();
              }}
            >
              {confirming ? `Confirm removal of ${removable}` : "Remove"}
            </button>
          )}
        </>
      )}
      <button type="button" className="link" onClick={onCancel}>
        {readOnly ? "Close" : "Cancel"}
      </button>
    </div>
  );
}
