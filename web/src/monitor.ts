// Supervisor monitoring of live calls (docs/voice.md, "Supervisor monitoring"; unit-tested in
// test/monitor.test.ts): who may monitor, which contacts can be monitored, the state a contact's
// view and the monitor.* stream events give, and the buttons that state allows.
import type { Contact, Me, StreamEvent } from "./types";

export type MonitorMode = "listen" | "whisper" | "barge";
export const monitorModes: MonitorMode[] = ["listen", "whisper", "barge"];

/** Who monitors a call and how; null when nobody does. */
export type MonitorState = { supervisor: string; mode: MonitorMode } | null;

/** Holds calls.monitor (supervisors and administrators over all calls, team leads their team's). */
export function mayMonitor(me: Me): boolean {
  return Boolean(me.permissions?.["calls.monitor"]);
}

/** Only a voice call being handled can be monitored (the server refuses the rest with 409). */
export function isMonitorable(channel: string, state: string): boolean {
  return channel === "voice" && state === "handling";
}

function asMode(m: unknown): MonitorMode | null {
  return monitorModes.includes(m as MonitorMode) ? (m as MonitorMode) : null;
}

/** The state the contact view's `monitor` field shows. */
export function monitorOfContact(c: Pick<Contact, "monitor"> | undefined): MonitorState {
  const m = c?.monitor;
  const mode = asMode(m?.mode);
  return m && mode ? { supervisor: m.supervisor, mode } : null;
}

/** The state after a stream event; events of other types or without a mode leave it as it was. */
export function monitorAfterEvent(prev: MonitorState, e: StreamEvent): MonitorState {
  switch (e.type) {
    case "monitor.started":
    case "monitor.mode_changed": {
      const mode = asMode(e.mode);
      return mode ? { supervisor: e.supervisor ?? prev?.supervisor ?? "", mode } : prev;
    }
    case "monitor.ended":
      return null;
    default:
      return prev;
  }
}

/**
 * The monitoring state of the live calls a screen shows. `epoch` counts the stream's `reset` and
 * `gap` notices: a read of a contact asked before the latest one may predate lost events.
 */
export interface MonitorBook {
  calls: Record<string, MonitorState>;
  epoch: number;
}

export const emptyMonitorBook: MonitorBook = { calls: {}, epoch: 0 };

/** Whether a stream message says events were lost (the state shown must be read again). */
export function losesEvents(type: string): boolean {
  return type === "reset" || type === "gap";
}

/**
 * The book after a stream message: monitor.* events update their call; `reset` and `gap` forget
 * every call (monitor events may have been lost) and start a new epoch, so each live call is read
 * again (monitorsToRead).
 */
export function monitorBookAfterEvent(book: MonitorBook, e: StreamEvent): MonitorBook {
  if (losesEvents(e.type)) return { calls: {}, epoch: book.epoch + 1 };
  const id = e.contact;
  if (!id || !isMonitorEvent(e.type)) return book;
  return { ...book, calls: { ...book.calls, [id]: monitorAfterEvent(book.calls[id] ?? null, e) } };
}

/** The live calls whose monitoring state is unknown: read each contact (its `monitor` field). */
export function monitorsToRead(book: MonitorBook, liveCalls: string[]): string[] {
  return liveCalls.filter((id) => !(id in book.calls));
}

/**
 * The book with a contact read in `epoch`: ignored when a reset or gap came since (the answer may
 * predate the lost events; the call is read again) or when an event already gave the state.
 */
export function withMonitorRead(book: MonitorBook, id: string, state: MonitorState, epoch: number): MonitorBook {
  if (epoch !== book.epoch || id in book.calls) return book;
  return { ...book, calls: { ...book.calls, [id]: state } };
}

/** The book with a command's reply (the server's current state of the call). */
export function withMonitorState(book: MonitorBook, id: string, state: MonitorState): MonitorBook {
  return { ...book, calls: { ...book.calls, [id]: state } };
}

/** Whether a stream event concerns monitoring. */
export function isMonitorEvent(type: string): boolean {
  return type.startsWith("monitor.");
}

export interface MonitorButtons {
  /** The modes the user may switch to (the current one is not offered again). */
  modes: MonitorMode[];
  /** Stop: when someone monitors the call (any holder of calls.monitor may end it). */
  stop: boolean;
}

/**
 * The buttons a monitoring state allows `login`: every mode while nobody monitors, the other modes
 * while the user itself does, none while another supervisor does (one per call; the server would
 * refuse it with 409); stop whenever the call is monitored.
 */
export function monitorButtons(state: MonitorState, login: string): MonitorButtons {
  if (!state) return { modes: [...monitorModes], stop: false };
  if (state.supervisor !== login) return { modes: [], stop: true };
  return { modes: monitorModes.filter((m) => m !== state.mode), stop: true };
}

export const monitorModeLabels: Record<MonitorMode, string> = {
  listen: "Listen",
  whisper: "Whisper",
  barge: "Barge",
};

const monitorStateWords: Record<MonitorMode, string> = {
  listen: "listening",
  whisper: "whispering",
  barge: "barged in",
};

/** "Not monitored", "sue listening", "you: whispering". */
export function monitorText(state: MonitorState, login: string): string {
  if (!state) return "Not monitored";
  const who = state.supervisor === login ? "you" : state.supervisor;
  return `${who} ${monitorStateWords[state.mode]}`;
}
