// The live picture of the contact center as the event stream draws it: a pure reducer over
// /api/v1/events messages (unit-tested in test/state.test.ts). Events carry names, not
// statistics, so the reducer keeps agents' states exact and marks queue statistics stale; the
// screen then re-reads /api/v1/queues (coalesced) to get the server's own numbers.
import type { Agent, AgentContact, Queue, StreamEvent } from "./types";

export interface LiveState {
  agents: Record<string, Agent>;
  queues: Record<string, Queue>;
  /** When `queues` was read (ms since the epoch): the base of the ticking longest wait. */
  queuesAt: number;
  /** The last event sequence number seen: where a reconnection resumes. */
  seq: number;
  /** Queue statistics changed since `queuesAt`: re-read them. */
  queuesStale: boolean;
  /** Agents whose counters (handled today, offer deadlines) only the server knows: re-read them. */
  staleAgents: string[];
  /** Events were lost (a gap, or the server said "reset"): re-read everything. */
  resync: boolean;
}

export const emptyState: LiveState = {
  agents: {},
  queues: {},
  queuesAt: 0,
  seq: 0,
  queuesStale: false,
  staleAgents: [],
  resync: false,
};

export function byName<T extends { name?: string; id?: string }>(items: T[]): Record<string, T> {
  const out: Record<string, T> = {};
  for (const item of items) out[(item.id ?? item.name) as string] = item;
  return out;
}

function withContact(agent: Agent, contact: AgentContact): Agent {
  const others = agent.contacts.filter((c) => c.contact !== contact.contact);
  return { ...agent, contacts: [...others, contact] };
}

function withoutContact(agent: Agent, contact: string): Agent {
  return { ...agent, contacts: agent.contacts.filter((c) => c.contact !== contact) };
}

function setContactState(agent: Agent, e: StreamEvent, state: AgentContact["state"]): Agent {
  const existing = agent.contacts.find((c) => c.contact === e.contact);
  return withContact(agent, {
    contact: e.contact as string,
    channel: e.channel ?? existing?.channel ?? "",
    queue: e.queue ?? existing?.queue ?? "",
    state,
    since: e.time ?? null,
  });
}

function markStale(list: string[], id: string): string[] {
  return list.includes(id) ? list : [...list, id];
}

/** The state after one message of the event stream. */
export function reduce(state: LiveState, e: StreamEvent, now: number): LiveState {
  if (e.type === "snapshot") {
    return {
      ...state,
      agents: byName(e.agents ?? []),
      queues: e.queues ? byName(e.queues) : state.queues,
      queuesAt: e.queues ? now : state.queuesAt,
      queuesStale: false,
      staleAgents: [],
      resync: false,
    };
  }
  const next: LiveState = { ...state, seq: Math.max(state.seq, e.seq ?? 0) };
  if (e.type === "gap" || e.type === "reset") return { ...next, resync: true };
  if (e.queue || e.type.startsWith("contact.") || e.type.startsWith("offer.")) {
    next.queuesStale = true;
  }
  const agent = e.agent ? state.agents[e.agent] : undefined;
  if (!agent || !e.agent) return next;

  let changed: Agent = agent;
  switch (e.type) {
    case "agent.presence_changed":
      changed = {
        ...agent,
        presence: e.presence ?? agent.presence,
        reason: e.reason ?? "",
        presence_since: e.time ?? agent.presence_since,
      };
      next.queuesStale = true;  // staffed and available counts
      break;
    case "contact.offered":
      changed = setContactState(agent, e, "offered");
      next.staleAgents = markStale(next.staleAgents, e.agent);  // the offer's deadline
      break;
    case "offer.accepted":
    case "handling.started":
    case "hold.started":
    case "hold.ended":
      changed = setContactState(agent, e, "handling");
      break;
    case "handling.ended":
    case "wrap_up.started":
      changed = setContactState(agent, e, "wrap-up");
      break;
    case "offer.rejected":
    case "offer.timed_out":
    case "offer.withdrawn":
    case "contact.transferred":
    case "contact.abandoned":
    case "contact.removed":
      if (e.contact) changed = withoutContact(agent, e.contact);
      break;
    case "wrap_up.ended":
    case "contact.closed":
      if (e.contact) changed = withoutContact(agent, e.contact);
      next.staleAgents = markStale(next.staleAgents, e.agent);  // handled today
      break;
    default:
      return next;
  }
  next.agents = { ...state.agents, [e.agent]: changed };
  return next;
}

/** Applies fresh queue statistics read at `now`. */
export function withQueues(state: LiveState, queues: Queue[], now: number): LiveState {
  return { ...state, queues: byName(queues), queuesAt: now, queuesStale: false };
}

/** Applies agents re-read from the server (all of them, or the stale ones). */
export function withAgents(state: LiveState, agents: Agent[], all: boolean): LiveState {
  const fresh = byName(agents);
  return {
    ...state,
    agents: all ? fresh : { ...state.agents, ...fresh },
    staleAgents: all ? [] : state.staleAgents.filter((id) => !(id in fresh)),
    resync: all ? false : state.resync,
  };
}

/** The longest wait of a queue now: what the server said at `queuesAt`, plus the time since. */
export function longestWaitNow(queue: Queue, queuesAt: number, now: number): number {
  if (queue.waiting <= 0) return 0;
  return queue.longest_wait_seconds + Math.max(0, (now - queuesAt) / 1000);
}

/** Agents counted by activity for one queue's wallboard tile. */
export function agentsByState(agents: Agent[], queue?: string): Record<string, number> {
  const counts: Record<string, number> = { available: 0, busy: 0, "wrap-up": 0, "not-ready": 0 };
  for (const a of agents) {
    if (queue && !a.queues.includes(queue)) continue;
    if (a.presence === "offline") continue;
    const states = a.contacts.map((c) => c.state);
    if (states.includes("handling") || states.includes("offered")) counts.busy++;
    else if (states.includes("wrap-up")) counts["wrap-up"]++;
    else if (a.presence === "not-ready") counts["not-ready"]++;
    else counts.available++;
  }
  return counts;
}

/** One point of the wallboard chart: per queue, contacts waiting and the service level. */
export interface Sample {
  time: number;
  waiting: Record<string, number>;
  serviceLevel: Record<string, number>;
}

/** The history with a new sample, keeping at most `max` points (oldest dropped). */
export function appendSample(history: Sample[], queues: Queue[], time: number, max: number): Sample[] {
  const sample: Sample = { time, waiting: {}, serviceLevel: {} };
  for (const q of queues) {
    sample.waiting[q.name] = q.waiting;
    sample.serviceLevel[q.name] = q.service_level;
  }
  const out = [...history, sample];
  return out.length > max ? out.slice(out.length - max) : out;
}
