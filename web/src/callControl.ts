// The agent desktop's call-control logic (unit-tested in test/callControl.test.ts): what a voice
// contact's state allows (docs/voice.md, "Call control" and "Recording"), the recording commands
// each recording state offers, the DTMF digits the server takes, and which stream events change
// a contact's call state (so the desktop re-reads GET /contacts/{id}).
import type { Contact, RecordingState } from "./types";

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
  return type.startsWith("hold.") || type.startsWith("recording.");
}
