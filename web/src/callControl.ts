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

/**
 * The recording commands that make sense in a recording state. The queue's policy decides the
 * rest (start on `never`, stop on `always` are refused with 409), and the server says so.
 */
export function recordingActions(state: RecordingState): RecordingAction[] {
  switch (state) {
    case "on":
      return ["pause", "stop"];
    case "paused":
      return ["resume", "stop"];
    default:
      return ["start"];
  }
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
