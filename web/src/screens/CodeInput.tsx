import type { Code } from "../types";

/**
 * A reason or disposition code: a select when the server lists its codes, otherwise a text field
 * (the server refuses an unknown code with a message that names the valid ones).
 */
export function CodeInput({
  label,
  codes,
  value,
  onChange,
  name,
}: {
  label: string;
  codes?: Code[];
  value: string;
  onChange: (v: string) => void;
  name: string;
}) {
  return (
    <label className="code-input">
      {label}
      {codes && codes.length > 0 ? (
        <select name={name} value={value} onChange={(e) => onChange(e.target.value)}>
          {codes.map((c) => (
            <option key={c.code} value={c.code}>
              {c.label || c.code}
            </option>
          ))}
        </select>
      ) : (
        <input name={name} value={value} placeholder="code" onChange={(e) => onChange(e.target.value)} />
      )}
    </label>
  );
}
