// Applying an edited configuration document (unit-tested in test/configDoc.test.ts): PUT
// /api/v1/config with the version the document was read at, as a dry run ("Check") or for real,
// and what came of it in the editors' terms.
import { ApiError } from "../api";
import { adminApi, problemsOf } from "./api";
import { changeText } from "./configText";
import type { ConfigChange, ConfigProblem } from "./types";

function message(e: unknown): string {
  return e instanceof ApiError ? e.message : "The server cannot be reached.";
}

export type Outcome =
  | { kind: "applied"; text: string }
  | { kind: "checked"; changes: ConfigChange[] }
  | { kind: "problems"; problems: ConfigProblem[]; sent: string }
  | { kind: "error"; text: string };

/**
 * Sends an edited document based on `version`; a 409 (someone else applied a version meanwhile)
 * says so and calls `reload`, so the next attempt edits the current document.
 */
export async function applyText(text: string, version: number, dryRun: boolean, reload: () => void): Promise<Outcome> {
  try {
    const r = await adminApi.applyConfig(text, version, dryRun);
    if (dryRun) return { kind: "checked", changes: r.changes };
    reload();
    if (!r.applied) return { kind: "applied", text: "No changes: nothing was applied." };
    return { kind: "applied", text: `Saved as configuration version ${r.version}: ${r.changes.map(changeText).join(", ")}` };
  } catch (e) {
    const problems = problemsOf(e);
    if (problems.length > 0) return { kind: "problems", problems, sent: text };
    if (e instanceof ApiError && e.status === 409) {
      reload();
      return {
        kind: "error",
        text: `Someone else changed the configuration meanwhile (${e.message}). It has been read again: check your change and save it again.`,
      };
    }
    return { kind: "error", text: message(e) };
  }
}
