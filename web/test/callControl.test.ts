import { describe, expect, it } from "vitest";
import { callState, changesCallState, hasCallControls, keypad, normalDigits, recordingActions } from "../src/callControl";

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
