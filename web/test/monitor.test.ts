import { describe, expect, it } from "vitest";
import {
  isMonitorable,
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
