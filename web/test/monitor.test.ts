import { describe, expect, it } from "vitest";
import {
  emptyMonitorBook,
  isMonitorable,
  losesEvents,
  monitorBookAfterEvent,
  monitorsToRead,
  withMonitorRead,
  withMonitorState,
  isMonitorEvent,
  mayMonitor,
  monitorAfterEvent,
  monitorButtons,
  monitorOfContact,
  monitorText,
} from "../src/monitor";
import type { Me } from "../src/types";

const me = (permissions: Me["permissions"]): Me => ({ login: "sue", roles: [], permissions });

describe("who may monitor", () => {
  it("needs calls.monitor at any reach", () => {
    expect(mayMonitor(me({ "calls.monitor": "all" }))).toBe(true);
    expect(mayMonitor(me({ "calls.monitor": "team" }))).toBe(true);
    expect(mayMonitor(me({ "agent.read": "all" }))).toBe(false);
  });

  it("offers only voice calls being handled", () => {
    expect(isMonitorable("voice", "handling")).toBe(true);
    expect(isMonitorable("voice", "offered")).toBe(false);
    expect(isMonitorable("voice", "wrap-up")).toBe(false);
    expect(isMonitorable("chat", "handling")).toBe(false);
  });
});

describe("monitoring state", () => {
  it("reads the contact view's monitor field", () => {
    expect(monitorOfContact(undefined)).toBeNull();
    expect(monitorOfContact({ monitor: null })).toBeNull();
    expect(monitorOfContact({ monitor: { supervisor: "sue", mode: "whisper" } })).toEqual({ supervisor: "sue", mode: "whisper" });
    expect(monitorOfContact({ monitor: { supervisor: "sue", mode: "shout" } })).toBeNull();
  });

  it("follows monitor.started, mode_changed and ended", () => {
    let s = monitorAfterEvent(null, { type: "monitor.started", contact: "7", supervisor: "sue", mode: "listen" });
    expect(s).toEqual({ supervisor: "sue", mode: "listen" });
    s = monitorAfterEvent(s, { type: "monitor.mode_changed", contact: "7", supervisor: "sue", mode: "barge" });
    expect(s).toEqual({ supervisor: "sue", mode: "barge" });
    expect(monitorAfterEvent(s, { type: "hold.started", contact: "7" })).toBe(s);
    expect(monitorAfterEvent(s, { type: "monitor.ended", contact: "7", supervisor: "sue", reason: "stopped" })).toBeNull();
    expect(isMonitorEvent("monitor.ended")).toBe(true);
    expect(isMonitorEvent("hold.started")).toBe(false);
  });
});

describe("monitor buttons", () => {
  it("offer every mode and no stop while nobody monitors", () => {
    expect(monitorButtons(null, "sue")).toEqual({ modes: ["listen", "whisper", "barge"], stop: false });
  });
  it("offer the other modes and stop to the monitoring supervisor", () => {
    expect(monitorButtons({ supervisor: "sue", mode: "listen" }, "sue")).toEqual({ modes: ["whisper", "barge"], stop: true });
  });
  it("offer only stop while another supervisor monitors", () => {
    expect(monitorButtons({ supervisor: "bob", mode: "barge" }, "sue")).toEqual({ modes: [], stop: true });
  });
  it("say who monitors and how", () => {
    expect(monitorText(null, "sue")).toBe("Not monitored");
    expect(monitorText({ supervisor: "sue", mode: "whisper" }, "sue")).toBe("you whispering");
    expect(monitorText({ supervisor: "bob", mode: "barge" }, "sue")).toBe("bob barged in");
  });
});

describe("monitoring of the grid's calls across a reset", () => {
  const sue = { supervisor: "sue", mode: "listen" as const };
  const started = { type: "monitor.started", seq: 5, contact: "7", supervisor: "sue", mode: "listen" };

  it("follows monitor events and reads only the calls it does not know", () => {
    let b = monitorBookAfterEvent(emptyMonitorBook, started);
    expect(b.calls).toEqual({ "7": sue });
    expect(monitorsToRead(b, ["7", "8"])).toEqual(["8"]);
    b = withMonitorRead(b, "8", null, b.epoch);
    expect(b.calls["8"]).toBeNull();
    expect(monitorsToRead(b, ["7", "8"])).toEqual([]);
    // A read does not overwrite what an event said; a command's reply does.
    expect(withMonitorRead(b, "7", null, b.epoch)).toBe(b);
    expect(withMonitorState(b, "7", null).calls["7"]).toBeNull();
    expect(monitorBookAfterEvent(b, { type: "hold.started", contact: "7" })).toBe(b);
  });

  it("forgets every call after a reset or gap, so each is read again", () => {
    for (const type of ["reset", "gap"]) {
      const before = monitorBookAfterEvent(emptyMonitorBook, started);
      const after = monitorBookAfterEvent(before, { type, seq: 900 });
      expect(after.calls).toEqual({});
      expect(after.epoch).toBe(before.epoch + 1);
      expect(monitorsToRead(after, ["7"])).toEqual(["7"]);
      // The monitor.ended lost in the reset: the call's fresh read says nobody monitors.
      expect(withMonitorRead(after, "7", null, after.epoch).calls["7"]).toBeNull();
    }
    expect(losesEvents("reset")).toBe(true);
    expect(losesEvents("gap")).toBe(true);
    expect(losesEvents("snapshot")).toBe(false);
  });

  it("drops a read asked before the reset (it may predate the lost events)", () => {
    const asked = emptyMonitorBook.epoch;
    const after = monitorBookAfterEvent(emptyMonitorBook, { type: "reset", seq: 900 });
    expect(withMonitorRead(after, "7", sue, asked)).toBe(after);
    expect(monitorsToRead(after, ["7"])).toEqual(["7"]);
  });
});
