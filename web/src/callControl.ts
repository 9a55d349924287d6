// The agent desktop's call-control logic (unit-tested in test/callControl.test.ts): what a voice
// contact's state allows (docs/voice.md, "Call control" and "Recording"), the recording commands
// each recording state offers, the DTMF digits the server takes, and which stream events change
// a contact's call state (so the desktop re-reads GET /contacts/{id}).
import type { Contact, DirectoryEntry, RecordingState, StreamEvent } from "./types";

export interface CallState {
  onHold: boolean;
  muted: boolean;
  recording: RecordingState;
}

/** The call state a contact's view shows (absent fields: off, as for a contact not yet read). */
export function callState(c: Pick<Contact, "on_hold" | "muted" | "recording_state"> | undefined): CallState {
  return { onHold: c?.on_hold === true, muted: c?.muted === true, recording: c?.recording_state ?? "off" };
}

/** Whether the desktop shows call controls for a contact: a voice contact being handled. */
export function hasCallControls(channel: string, state: string): boolean {
  return channel === "voice" && state === "handling";
}

export type RecordingAction = "start" | "stop" | "pause" | "resume";

/** A queue's recording policy as GET /api/v1/queues shows it (docs/media.md, "Recording"). */
export type RecordingPolicy = "never" | "always" | "on_demand";

/**
 * The recording commands that make sense in a recording state and under the queue's policy: a
 * `never` queue offers no Start, an `always` queue no Stop (the server would refuse both with
 * 409). Without a known policy every command of the state is offered and the server decides.
 */
export function recordingActions(state: RecordingState, policy?: string): RecordingAction[] {
  const actions: RecordingAction[] = state === "on" ? ["pause", "stop"] : state === "paused" ? ["resume", "stop"] : ["start"];
  return actions.filter((a) => !(a === "start" && policy === "never") && !(a === "stop" && policy === "always"));
}

export const recordingActionLabels: Record<RecordingAction, string> = {
  start: "Start recording",
  stop: "Stop recording",
  pause: "Pause recording",
  resume: "Resume recording",
};

export const recordingStateLabels: Record<RecordingState, string> = {
  off: "Not recording",
  on: "Recording",
  paused: "Recording paused",
};

/** The keypad, in telephone order. */
export const keypad = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

/** Digits the server sends as RFC 4733 events: 1 to 64 of 0-9 * # A-D (a-d taken as upper case). */
export function normalDigits(text: string): string | null {
  const d = text.replace(/\s+/g, "").toUpperCase();
  return /^[0-9*#A-D]{1,64}$/.test(d) ? d : null;
}

/**
 * Stream events after which a handled contact's call state may differ from what was read. Mute is
 * not journaled (no event): a mute by someone else shows at the next read of the contact.
 */
export function changesCallState(type: string): boolean {
  return (
    type.startsWith("hold.") ||
    type.startsWith("recording.") ||
    type.startsWith("consult.") ||
    type.startsWith("conference.") ||
    type === "contact.transferred"
  );
}

// --- Consultation transfer and conference (docs/voice.md, "Consultation transfer", "Conference").

/**
 * The agent consulted on a call and whether the three talk together; null when none is. `phase`
 * when the server said it: waiting (a consultation of `queue` waits for a free member, no target
 * yet), ringing (the target's phone rings), talking (it answered).
 */
export type ConsultState = {
  target: string;
  conference: boolean;
  phase?: "waiting" | "ringing" | "talking";
  queue?: string;
} | null;

function withPhase(state: { target: string; conference: boolean }, phase: string | undefined, queue: string | undefined): ConsultState {
  const out: NonNullable<ConsultState> = { ...state };
  if (phase === "waiting" || phase === "ringing" || phase === "talking") out.phase = phase;
  if (queue) out.queue = queue;
  return out;
}

/** The state the contact view's `consult` field shows. */
export function consultOfContact(c: Pick<Contact, "consult"> | undefined): ConsultState {
  const k = c?.consult;
  if (!k || typeof k.target !== "string" || (!k.target && k.state !== "waiting")) return null;
  return withPhase({ target: k.target, conference: k.conference === true }, k.state, k.queue);
}

/**
 * The state after a stream event about the contact: `consult.started` and `conference.started`
 * name the target; `consult.ended`, `conference.ended` (completed, cancelled, the target hanging up
 * or not answering, the call ending, an agent leaving the conference) and an attended
 * `contact.transferred` end it. Other events leave it as it was.
 */
export function consultAfterEvent(prev: ConsultState, e: StreamEvent): ConsultState {
  switch (e.type) {
    case "consult.waiting":
      return withPhase({ target: "", conference: false }, "waiting", e.consulted_queue ?? prev?.queue);
    case "consult.started":
      return e.target ? withPhase({ target: e.target, conference: false }, "ringing", e.consulted_queue) : prev;
    case "consult.answered":
      return prev && prev.target === e.target ? { ...prev, phase: "talking" } : prev;
    case "conference.started":
      return { target: e.target ?? prev?.target ?? "", conference: true };
    case "consult.ended":
    case "conference.ended":
      return null;
    case "contact.transferred":
      return e.text === "attended" ? null : prev;
    default:
      return prev;
  }
}

/** The agent's part in a call: handling it, or the agent another one consults. */
export type ConsultRole = "handler" | "consulted";

/**
 * `consulted` when the contact's consultation names `agentId` and someone else handles it (that
 * agent's desktop shows the call without call control: the handling agent completes or cancels).
 */
export function consultRole(c: Pick<Contact, "agent" | "consult"> | undefined, agentId: string): ConsultRole {
  const k = consultOfContact(c);
  return k && k.target === agentId && c?.agent !== agentId ? "consulted" : "handler";
}

export interface ConsultButtons {
  /** Consult another agent (no consultation runs). */
  consult: boolean;
  /** Complete the transfer to the consulted agent. */
  complete: boolean;
  /** Make the consultation a three-way conference (not yet one). */
  conference: boolean;
  /** Cancel: back to the customer (drops the consulted agent from a conference too). */
  cancel: boolean;
  /** Hold/Resume and the blind transfer: the server refuses both while a consultation runs (409). */
  hold: boolean;
  transfer: boolean;
}

/**
 * The buttons a consultation state allows: Consult while none runs; Complete transfer,
 * Conference and Cancel while one does (Conference not again once it is one). Complete and
 * Conference before the consulted phone answered are the server's to refuse (409: the view does
 * not say whether it answered).
 */
export function consultButtons(state: ConsultState): ConsultButtons {
  if (!state) return { consult: true, complete: false, conference: false, cancel: false, hold: true, transfer: true };
  // Nobody to hand the call to yet: the server refuses complete and conference (409).
  if (state.phase === "waiting") {
    return { consult: false, complete: false, conference: false, cancel: true, hold: false, transfer: false };
  }
  return { consult: false, complete: true, conference: !state.conference, cancel: true, hold: false, transfer: false };
}

/**
 * "Waiting for an agent of sales (customer on hold)", "Calling bob (customer on hold)",
 * "Consulting bob (customer on hold)", "Conference with bob", or "" when none runs.
 */
export function consultText(state: ConsultState): string {
  if (!state) return "";
  if (state.conference) return `Conference with ${state.target}`;
  if (state.phase === "waiting") return `Waiting for an agent of ${state.queue ?? "the queue"} (customer on hold)`;
  if (state.phase === "ringing") return `Calling ${state.target} (customer on hold)`;
  return `Consulting ${state.target} (customer on hold)`;
}

/** What the consulted agent's desktop says about the call. */
export function consultedText(c: Pick<Contact, "agent" | "consult"> | undefined): string {
  const k = consultOfContact(c);
  const who = c?.agent || "another agent";
  if (!k) return "";
  return k.conference ? `Conference with ${who} and the customer` : `${who} consults you; the customer is on hold`;
}

/** Why a consultation or conference ended, in the agent's words ("" for other events). */
export function consultEndedText(e: StreamEvent): string {
  if (e.type !== "consult.ended" && e.type !== "conference.ended") return "";
  const who = e.target ?? "the consulted agent";
  switch (e.reason) {
    case "completed":
      return `Transferred to ${who}.`;
    case "cancelled":
      return e.type === "conference.ended" ? `${who} left the conference (cancelled).` : `Consultation with ${who} cancelled.`;
    case "target_hung_up":
      return `${who} hung up: back with the customer.`;
    case "target_left":
      return `${who} left the conference: back with the customer.`;
    case "no_answer":
      return `${who} did not answer: back with the customer.`;
    case "refused":
      return `${who} declined: back with the customer.`;
    case "timeout":
      return `Nobody of ${e.consulted_queue ?? "the queue"} was free in time: back with the customer.`;
    case "agent_left":
      return `You left the conference: ${who} has the call.`;
    case "call_ended":
      return "The call ended.";
    default:
      return `Consultation with ${who} ended.`;
  }
}

/**
 * The agents a call may be consulted with, from the directory (every agent, whatever the
 * caller's reach): those a voice call can reach now, neither the caller nor the contact's agent;
 * by name.
 */
export function consultCandidates(agents: DirectoryEntry[], exclude: string[]): { id: string; name: string }[] {
  return agents
    .filter((a) => a.available_for_voice && !exclude.includes(a.id))
    .map((a) => ({ id: a.id, name: a.name || a.id }))
    .sort((x, y) => x.name.localeCompare(y.name) || x.id.localeCompare(y.id));
}
