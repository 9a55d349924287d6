// The Recordings screen's pure logic (unit-tested in test/recordings.test.ts): the search form's
// filters to the query of GET /api/v1/recordings (docs/openapi.yaml), the hash route's filters,
// and the table's formatting. Dates in the form are the browser's calendar days; `to` is the
// start of the day after, since the server's `to` is exclusive.

export interface RecordingFilters {
  from: string;  // YYYY-MM-DD, "" for no bound
  to: string;  // YYYY-MM-DD inclusive, "" for no bound
  queue: string;
  agent: string;
  customer: string;
}

export const noFilters: RecordingFilters = { from: "", to: "", queue: "", agent: "", customer: "" };
export const pageSize = 25;

function dayStart(day: string, plusDays = 0): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return null;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + plusDays).toISOString();
}

/** Problems the browser can tell before asking (the server checks again). */
export function filterProblems(f: RecordingFilters): string[] {
  const out: string[] = [];
  if (f.from && !dayStart(f.from)) out.push("From is not a date.");
  if (f.to && !dayStart(f.to)) out.push("To is not a date.");
  if (f.from && f.to && f.from > f.to) out.push("From is after To.");
  if (f.customer.trim() && !/^[1-9][0-9]{0,19}$/.test(f.customer.trim())) out.push("Customer is a customer number (digits).");
  return out;
}

/** The path (under /api/v1) of one page of recordings; `after` is the previous page's next_after. */
export function recordingsPath(f: RecordingFilters, after?: string | null, limit = pageSize): string {
  const q = new URLSearchParams();
  const from = f.from ? dayStart(f.from) : null;
  const to = f.to ? dayStart(f.to, 1) : null;
  if (from) q.set("from", from);
  if (to) q.set("to", to);
  for (const k of ["queue", "agent", "customer"] as const) {
    const v = f[k].trim();
    if (v) q.set(k, v);
  }
  if (after) q.set("after", after);
  q.set("limit", String(limit));
  return `/recordings?${q.toString()}`;
}

/** Filters carried in the hash route, e.g. `recordings?agent=alice` (other keys ignored). */
export function filtersFromHash(hash: string): RecordingFilters {
  const i = hash.indexOf("?");
  const q = new URLSearchParams(i < 0 ? "" : hash.slice(i + 1));
  return {
    from: q.get("from") ?? "",
    to: q.get("to") ?? "",
    queue: q.get("queue") ?? "",
    agent: q.get("agent") ?? "",
    customer: q.get("customer") ?? "",
  };
}

/** The contact whose recordings the hash route asks for (`recordings?contact=17`), if any. */
export function contactFromHash(hash: string): string | null {
  const i = hash.indexOf("?");
  const c = new URLSearchParams(i < 0 ? "" : hash.slice(i + 1)).get("contact");
  return c && /^[1-9][0-9]*$/.test(c) ? c : null;
}

/** Bytes as B, KiB or MiB with one decimal. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

/** The audio URL the player streams (the session cookie authenticates it). */
export function audioUrl(id: string): string {
  return `/api/v1/recordings/${encodeURIComponent(id)}/audio`;
}

/** The hash route of a search (the inverse of filtersFromHash), e.g. `#/recordings?queue=sales`. */
export function filtersHash(f: RecordingFilters): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v.trim()) q.set(k, v.trim());
  const s = q.toString();
  return s ? `#/recordings?${s}` : "#/recordings";
}
