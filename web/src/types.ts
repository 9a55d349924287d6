// The shapes of the REST and WebSocket API (docs/openapi.yaml) that the screens read.

export type Presence = "offline" | "available" | "not-ready";
export type ContactState = "in-flow" | "queued" | "offered" | "handling" | "wrap-up" | "closed";

export interface Code {
  code: string;
  label: string;
}

export interface Me {
  login: string;
  roles: string[];
  team?: string;
  agent?: string;
  permissions: Record<string, "self" | "team" | "all">;
  user?: { display_name?: string; login?: string };
  // The configured Not Ready reasons and wrap-up dispositions; empty lists: free text allowed.
  reason_codes?: Code[];
  disposition_codes?: Code[];
  /** The site's time zone (IANA name), whose calendar days reports follow; null when unknown. */
  time_zone?: string | null;
}

export interface AgentContact {
  contact: string;
  channel: string;
  state: "offered" | "handling" | "wrap-up";
  queue: string;
  since: string | null;
  offer_expires?: string;
}

/** An entry of GET /api/v1/directory: a colleague to consult or hand a call to. */
export interface DirectoryEntry {
  id: string;
  name: string;
  team: string;
  presence: Presence;
  available_for_voice: boolean;
}

export interface Agent {
  id: string;
  name: string;
  team: string;
  presence: Presence;
  reason: string;
  presence_since: string | null;
  contacts: AgentContact[];
  queues: string[];
  handled_today: number;
  skills?: { skill: string; proficiency: number }[];
  capacity?: Record<string, number>;
}

export interface Queue {
  name: string;
  channels: string[];
  priority: number;
  waiting: number;
  longest_wait_seconds: number;
  agents_staffed: number;
  agents_available: number;
  agents_busy: number;
  offered: number;
  answered: number;
  abandoned: number;
  service_level: number;
  asa_seconds: number;
  aht_seconds: number;
  sl_target_seconds: number;
  /** The queue's service-level target ratio (0.8 for "80 % within sl_target_seconds"). */
  sl_target: number;
  /** The queue's call recording policy: "never", "always" or "on_demand". */
  recording?: string;
}

export interface Contact {
  id: string;
  channel: string;
  direction: string;
  state: ContactState;
  queue: string;
  agent: string;
  priority: number;
  attributes: Record<string, string>;
  customer: string | null;
  times: Record<string, string | null>;
  disposition: string;
  notes: string;
  // Voice (docs/voice.md): call control and recording, while the engine holds the contact.
  on_hold?: boolean;
  muted?: boolean;
  recording_state?: RecordingState;
  recording?: Recording | null;
  recordings?: Recording[];
  /** Supervisor monitoring of a live call (docs/voice.md); null when nobody monitors it. */
  monitor?: { supervisor: string; mode: string } | null;
  /** Consultation transfer (docs/voice.md): the agent consulted and whether it is a conference. */
  // `queue` and `state` (waiting, ringing, talking, conference) since issue 8.
  consult?: { target: string; conference: boolean; queue?: string; state?: string } | null;
}

export type RecordingState = "off" | "on" | "paused";

export interface Recording {
  id: string;
  contact: string;
  kind: string;
  bytes: number;
  duration_ms: number;
  sha256: string;
  started_at: string | null;
  completed_at: string | null;
  queue: string;
  agent: string;
  customer: string | null;
}

export interface Customer {
  id: string;
  name: string;
  identities: { channel: string; address: string }[];
  fields: Record<string, unknown>;
  tags: string[];
  notes?: { id: string; at: string; author: string; text: string }[];
}

/** One message of /api/v1/events: a snapshot, a gap notice, or an event. */
export interface StreamEvent {
  type: string;
  seq?: number;
  time?: string;
  contact?: string;
  channel?: string;
  agent?: string;
  team?: string;
  queue?: string;
  to_queue?: string;
  presence?: Presence;
  reason?: string;
  disposition?: string;
  customer?: string;
  // monitor.* events (docs/voice.md, "Supervisor monitoring").
  supervisor?: string;
  mode?: string;
  // consult.* and conference.* events: the consulted agent, why it ended and who cancelled it;
  // contact.transferred: "attended" or the transfer's text.
  target?: string;
  // consult.waiting, consult.started, consult.ended of a consultation of a queue (issue 8).
  consulted_queue?: string;
  by?: string;
  text?: string;
  agents?: Agent[];
  queues?: Queue[];
}
