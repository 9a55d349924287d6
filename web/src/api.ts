// A thin client over /api/v1: JSON in and out, the session cookie sent by the browser, errors
// turned into ApiError with the server's message (which names the field and the allowed values).
import type { ConsultBody, DialRequest, TransferBody } from "./dial";
import type { Report } from "./reports/model";
import type { Agent, Contact, Customer, DirectoryEntry, Me, Queue, Recording } from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The whole `error` object of the answer (e.g. `problems` of an invalid configuration). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Dispatched on window when the server no longer knows the session (expired, logged out elsewhere). */
export const sessionEndedEvent = "parley:session-ended";

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
  }
  const res = await fetch(`/api/v1${path}`, init);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (a proxy's error page): reported below with the status.
  }
  if (res.status === 401 && path !== "/auth/login") dispatchEvent(new Event(sessionEndedEvent));
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, err?.code ?? "http", err?.message ?? `HTTP ${res.status}`, err ?? {});
  }
  return json as T;
}

const enc = encodeURIComponent;

export const api = {
  login: (login: string, password: string) =>
    call<{ user: unknown }>("POST", "/auth/login", { login, password }),
  logout: () => call<void>("POST", "/auth/logout"),
  me: () => call<Me>("GET", "/me"),
  agents: () => call<{ agents: Agent[] }>("GET", "/agents").then((r) => r.agents),
  agent: (id: string) => call<Agent>("GET", `/agents/${enc(id)}`),
  directory: () =>
    call<{ agents: DirectoryEntry[] }>("GET", "/directory").then((r) => r.agents),
  setPresence: (id: string, presence: string, reason?: string) =>
    call<Agent>("PUT", `/agents/${enc(id)}/presence`, reason ? { presence, reason } : { presence }),
  queues: () => call<{ queues: Queue[] }>("GET", "/queues").then((r) => r.queues),
  queuedContacts: () =>
    call<{ contacts: Contact[] }>("GET", "/contacts?state=queued&limit=100").then((r) => r.contacts),
  contact: (id: string) => call<Contact>("GET", `/contacts/${enc(id)}`),
  accept: (id: string) => call<Contact>("POST", `/contacts/${enc(id)}/accept`, {}),
  reject: (id: string) => call<Contact>("POST", `/contacts/${enc(id)}/reject`, {}),
  end: (id: string) => call<Contact>("POST", `/contacts/${enc(id)}/end`),
  wrapUp: (id: string, disposition: string, notes: string) => {
    const body: Record<string, string> = {};
    if (disposition) body.disposition = disposition;
    if (notes) body.notes = notes;
    return call<Contact>("POST", `/contacts/${enc(id)}/wrap-up`, body);
  },
  explanation: (id: string) =>
    call<{ contact: string; explanation: string }>("GET", `/contacts/${enc(id)}/explanation`),
  customer: (id: string) => call<Customer>("GET", `/customers/${enc(id)}`),
  timeline: (id: string) =>
    call<{ contacts: Contact[] }>("GET", `/customers/${enc(id)}/timeline`).then((r) => r.contacts),
  addNote: (id: string, text: string) => call<unknown>("POST", `/customers/${enc(id)}/notes`, { text }),
  // Call control (docs/voice.md): each replies with the contact (on_hold, muted, recording_state).
  hold: (id: string) => call<Contact>("POST", `/contacts/${enc(id)}/hold`),
  resume: (id: string) => call<Contact>("POST", `/contacts/${enc(id)}/resume`),
  mute: (id: string, muted: boolean) => call<Contact>("POST", `/contacts/${enc(id)}/mute`, { muted }),
  dtmf: (id: string, digits: string) => call<Contact>("POST", `/contacts/${enc(id)}/dtmf`, { digits }),
  hangup: (id: string) => call<Contact>("POST", `/contacts/${enc(id)}/hangup`),
  /** Blind transfer: exactly one of `queue`, `agent`, `number` (dial.ts's transferBody). */
  transfer: (id: string, target: TransferBody) => call<Contact>("POST", `/contacts/${enc(id)}/transfer`, target),
  /** Click-to-dial (docs/voice.md, "Outbound calls"): replies with the outbound contact once the phone rings. */
  placeCall: (body: DialRequest) => call<Contact>("POST", "/calls", body),
  recordingCommand: (id: string, action: string) =>
    call<Contact>("POST", `/contacts/${enc(id)}/recording`, { action }),
  // Consultation transfer and conference (docs/voice.md): each replies with the contact (`consult`).
  /** Exactly one of `agent`, `queue` (dial.ts's consultBody). */
  consult: (id: string, target: ConsultBody) => call<Contact>("POST", `/contacts/${enc(id)}/consult`, target),
  consultStep: (id: string, step: "complete" | "cancel" | "conference") =>
    call<Contact>("POST", `/contacts/${enc(id)}/consult/${step}`),
  // Supervisor monitoring (docs/voice.md): each replies with the contact (its `monitor` field).
  monitor: (id: string, mode: string) => call<Contact>("POST", `/contacts/${enc(id)}/monitor`, { mode }),
  stopMonitor: (id: string) => call<Contact>("DELETE", `/contacts/${enc(id)}/monitor`),
  /** `path` from recordings/model.ts's recordingsPath (under /api/v1). */
  recordings: (path: string) => call<{ recordings: Recording[]; next_after: string | null }>("GET", path),
  recording: (id: string) => call<Recording>("GET", `/recordings/${enc(id)}`),
  /** `path` from reports/model.ts's reportPath (under /api/v1). */
  report: (path: string) => call<Report>("GET", path),
};
