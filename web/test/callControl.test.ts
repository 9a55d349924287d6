import { describe, expect, it } from "vitest";
import {
  callState,
  changesCallState,
  consultAfterEvent,
  consultButtons,
  consultCandidates,
  consultedText,
  consultEndedText,
  consultOfContact,
  consultRole,
  consultText,
  hasCallControls,
  keypad,
  normalDigits,
  recordingActions,
} from "../src/callControl";
import type { ConsultState } from "../src/callControl";
import type { Contact, DirectoryEntry } from "../src/types";

describe("call state", () => {
  it("reads on_hold, muted and recording_state, absent fields as off", () => {
    expect(callState(undefined)).toEqual({ onHold: false, muted: false, recording: "off" });
    expect(callState({ on_hold: true, muted: true, recording_state: "paused" })).toEqual({
      onHold: true,
      muted: true,
      recording: "paused",
    });
  });

  it("offers call controls only for a voice contact being handled", () => {
    expect(hasCallControls("voice", "handling")).toBe(true);
    expect(hasCallControls("chat", "handling")).toBe(false);
    expect(hasCallControls("voice", "wrap-up")).toBe(false);
    expect(hasCallControls("voice", "offered")).toBe(false);
  });
});

describe("recording commands", () => {
  it("follow the recording state", () => {
    expect(recordingActions("off")).toEqual(["start"]);
    expect(recordingActions("on")).toEqual(["pause", "stop"]);
    expect(recordingActions("paused")).toEqual(["resume", "stop"]);
  });

  it("follow the queue's recording policy: no Start on never, no Stop on always", () => {
    expect(recordingActions("off", "never")).toEqual([]);
    expect(recordingActions("off", "on_demand")).toEqual(["start"]);
    expect(recordingActions("on", "always")).toEqual(["pause"]);
    expect(recordingActions("paused", "always")).toEqual(["resume"]);
    expect(recordingActions("on", "on_demand")).toEqual(["pause", "stop"]);
  });
});

describe("DTMF digits", () => {
  it("takes 0-9 * # A-D, lower case as upper case, spaces dropped", () => {
    expect(normalDigits("12 34#")).toBe("1234#");
    expect(normalDigits("*abcd")).toBe("*ABCD");
    for (const k of keypad) expect(normalDigits(k)).toBe(k);
  });

  it("refuses none, other characters and more than 64", () => {
    expect(normalDigits("")).toBeNull();
    expect(normalDigits("12e")).toBeNull();
    expect(normalDigits("+1")).toBeNull();
    expect(normalDigits("1".repeat(64))).toBe("1".repeat(64));
    expect(normalDigits("1".repeat(65))).toBeNull();
  });
});

describe("events that change a call", () => {
  it("are hold and recording events", () => {
    for (const t of ["hold.started", "hold.ended", "recording.started", "recording.masked", "recording.unmasked", "recording.stopped"]) {
      expect(changesCallState(t)).toBe(true);
    }
    for (const t of ["offer.created", "handling.started", "agent.presence_changed", "contact.closed"]) {
      expect(changesCallState(t)).toBe(false);
    }
  });
});

describe("consultation transfer and conference", () => {
  const bob = { target: "bob", conference: false };
  const conf = { target: "bob", conference: true };

  it("reads the contact's consult field", () => {
    expect(consultOfContact(undefined)).toBeNull();
    expect(consultOfContact({ consult: null })).toBeNull();
    expect(consultOfContact({})).toBeNull();
    expect(consultOfContact({ consult: { target: "bob", conference: false } })).toEqual(bob);
    expect(consultOfContact({ consult: { target: "bob", conference: true } })).toEqual(conf);
    // Issue 8: the server's state and the queue consulted.
    expect(consultOfContact({ consult: { target: "", queue: "sales", state: "waiting", conference: false } })).toEqual({
      target: "",
      conference: false,
      phase: "waiting",
      queue: "sales",
    });
    expect(consultOfContact({ consult: { target: "", queue: "", state: "", conference: false } })).toBeNull();
    expect(consultOfContact({ consult: { target: "bob", queue: "", state: "talking", conference: false } })).toEqual({
      ...bob,
      phase: "talking",
    });
  });

  it("follows the consult.*, conference.* and attended transfer events", () => {
    const ev = (type: string, extra: Record<string, string> = {}) => ({ type, contact: "7", ...extra });
    const ringing: ConsultState = { ...bob, phase: "ringing" };
    expect(consultAfterEvent(null, ev("consult.started", { target: "bob" }))).toEqual(ringing);
    expect(consultAfterEvent(ringing, ev("consult.answered", { target: "bob" }))).toEqual({ ...bob, phase: "talking" });
    expect(consultAfterEvent(ringing, ev("consult.answered", { target: "carol" }))).toEqual(ringing);
    const waiting = consultAfterEvent(null, ev("consult.waiting", { consulted_queue: "sales" }));
    expect(waiting).toEqual({ target: "", conference: false, phase: "waiting", queue: "sales" });
    expect(consultAfterEvent(waiting, ev("consult.started", { target: "bob", consulted_queue: "sales" }))).toEqual({
      ...ringing,
      queue: "sales",
    });
    expect(consultAfterEvent(bob, ev("conference.started", { target: "bob" }))).toEqual(conf);
    // The other agent hanging up, not answering, a cancel, a completion: the consultation is over.
    for (const reason of ["target_hung_up", "no_answer", "cancelled", "completed", "call_ended"]) {
      expect(consultAfterEvent(bob, ev("consult.ended", { target: "bob", reason }))).toBeNull();
    }
    for (const reason of ["target_left", "agent_left", "cancelled", "completed", "call_ended"]) {
      expect(consultAfterEvent(conf, ev("conference.ended", { target: "bob", reason }))).toBeNull();
    }
    expect(consultAfterEvent(bob, ev("contact.transferred", { text: "attended" }))).toBeNull();
    expect(consultAfterEvent(bob, ev("contact.transferred", { text: "flow" }))).toEqual(bob);
    expect(consultAfterEvent(bob, ev("hold.ended"))).toEqual(bob);
    expect(consultAfterEvent(null, ev("consult.started"))).toBeNull();
  });

  it("re-reads the contact after consultation events", () => {
    for (const t of ["consult.started", "consult.ended", "conference.started", "conference.ended", "contact.transferred"]) {
      expect(changesCallState(t)).toBe(true);
    }
  });

  it("offers Consult without a consultation; Complete, Conference and Cancel during one", () => {
    expect(consultButtons(null)).toEqual({
      consult: true,
      complete: false,
      conference: false,
      cancel: false,
      hold: true,
      transfer: true,
    });
    // Hold and the blind transfer are refused by the server while a consultation runs.
    expect(consultButtons(bob)).toEqual({
      consult: false,
      complete: true,
      conference: true,
      cancel: true,
      hold: false,
      transfer: false,
    });
    expect(consultButtons(conf)).toMatchObject({ consult: false, complete: true, conference: false, cancel: true });
  });

  it("tells the handling agent from the consulted one", () => {
    expect(consultRole({ agent: "dave", consult: bob }, "dave")).toBe("handler");
    expect(consultRole({ agent: "dave", consult: bob }, "bob")).toBe("consulted");
    expect(consultRole({ agent: "bob", consult: null }, "bob")).toBe("handler");
    expect(consultRole(undefined, "bob")).toBe("handler");
    expect(consultedText({ agent: "dave", consult: bob })).toBe("dave consults you; the customer is on hold");
    expect(consultedText({ agent: "dave", consult: conf })).toBe("Conference with dave and the customer");
  });

  it("words the state and why it ended", () => {
    expect(consultText(null)).toBe("");
    expect(consultText(bob)).toBe("Consulting bob (customer on hold)");
    expect(consultText(conf)).toBe("Conference with bob");
    expect(consultText({ ...bob, phase: "ringing" as const })).toBe("Calling bob (customer on hold)");
    expect(consultText({ ...bob, phase: "talking" as const })).toBe("Consulting bob (customer on hold)");
    expect(consultText({ target: "", conference: false, phase: "waiting", queue: "sales" })).toBe(
      "Waiting for an agent of sales (customer on hold)",
    );
    // The server's answer to a consultation of a queue with nobody free (no `conference` key).
    const waiting = consultOfContact({ consult: { target: "", queue: "sales", state: "waiting" } as Contact["consult"] });
    expect(consultText(waiting)).toBe("Waiting for an agent of sales (customer on hold)");
    expect(consultButtons(waiting)).toEqual({
      consult: false,
      complete: false,
      conference: false,
      cancel: true,
      hold: false,
      transfer: false,
    });
    const ended = (type: string, reason: string) => consultEndedText({ type, target: "bob", reason });
    expect(ended("consult.ended", "target_hung_up")).toBe("bob hung up: back with the customer.");
    expect(ended("consult.ended", "no_answer")).toBe("bob did not answer: back with the customer.");
    expect(ended("conference.ended", "target_left")).toBe("bob left the conference: back with the customer.");
    expect(ended("consult.ended", "completed")).toBe("Transferred to bob.");
    expect(ended("consult.ended", "refused")).toBe("bob declined: back with the customer.");
    expect(consultEndedText({ type: "consult.ended", consulted_queue: "sales", reason: "timeout" })).toBe(
      "Nobody of sales was free in time: back with the customer.",
    );
    expect(consultEndedText({ type: "hold.ended" })).toBe("");
  });

  it("lists the directory's agents a voice call reaches now, not the caller nor the contact's agent", () => {
    const entry = (id: string, available: boolean, presence: DirectoryEntry["presence"] = "available"): DirectoryEntry => ({
      id,
      name: id.toUpperCase(),
      team: "north",
      presence,
      available_for_voice: available,
    });
    const agents = [
      entry("carol", true),
      entry("bob", true),
      entry("dave", true),
      entry("erin", false, "not-ready"),
      entry("frank", false),
      entry("sue", true),
    ];
    expect(consultCandidates(agents, ["sue", "dave"]).map((a) => a.id)).toEqual(["bob", "carol"]);
    expect(consultCandidates([], ["sue"])).toEqual([]);
  });
});
