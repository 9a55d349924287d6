import { describe, expect, it } from "vitest";
import {
  abandonLevel,
  activityClass,
  activitySince,
  agentActivity,
  formatDuration,
  formatPercent,
  secondsLeft,
  secondsSince,
  serviceLevelLevel,
  waitLevel,
  worst,
} from "../src/format";

describe("formatDuration", () => {
  it("reads like a clock", () => {
    expect(formatDuration(0)).toBe("0:00");
    expect(formatDuration(7)).toBe("0:07");
    expect(formatDuration(245)).toBe("4:05");
    expect(formatDuration(3723)).toBe("1:02:03");
    expect(formatDuration(59.99)).toBe("0:59");
  });
  it("never shows a negative or broken time", () => {
    expect(formatDuration(-3)).toBe("0:00");
    expect(formatDuration(Number.NaN)).toBe("0:00");
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe("0:00");
  });
});

describe("secondsSince and secondsLeft", () => {
  const now = Date.parse("2026-12-02T10:00:30Z");
  it("measure from ISO times", () => {
    expect(secondsSince("2026-12-02T10:00:00Z", now)).toBe(30);
    expect(secondsLeft("2026-12-02T10:00:45.200Z", now)).toBe(16);  // rounded up: 15.2 s left
  });
  it("clamp and tolerate missing or bad times", () => {
    expect(secondsSince("2026-12-02T10:01:00Z", now)).toBe(0);  // clock skew: never negative
    expect(secondsSince(null, now)).toBe(0);
    expect(secondsSince("yesterday", now)).toBe(0);
    expect(secondsLeft("2026-12-02T10:00:00Z", now)).toBe(0);
    expect(secondsLeft(undefined, now)).toBeNull();
  });
});

describe("threshold colours", () => {
  it("service level against its target", () => {
    expect(serviceLevelLevel(0.85, 0.8)).toBe("ok");
    expect(serviceLevelLevel(0.8, 0.8)).toBe("ok");
    expect(serviceLevelLevel(0.75, 0.8)).toBe("warn");
    expect(serviceLevelLevel(0.7, 0.8)).toBe("warn");
    expect(serviceLevelLevel(0.69, 0.8)).toBe("alert");
    expect(serviceLevelLevel(0.5, 0.8, 0.4)).toBe("warn");
  });
  it("longest wait against the service-level time", () => {
    expect(waitLevel(0, 20)).toBe("ok");
    expect(waitLevel(9, 20)).toBe("ok");
    expect(waitLevel(10, 20)).toBe("warn");
    expect(waitLevel(20, 20)).toBe("alert");
    expect(waitLevel(100, 0)).toBe("ok");  // no target: never coloured
  });
  it("abandon rate", () => {
    expect(abandonLevel(0, 0)).toBe("ok");
    expect(abandonLevel(1, 20)).toBe("ok");  // 5%
    expect(abandonLevel(2, 20)).toBe("warn");  // 10%
    expect(abandonLevel(3, 20)).toBe("alert");  // 15%
  });
  it("the worst level wins", () => {
    expect(worst("ok", "warn", "ok")).toBe("warn");
    expect(worst("warn", "alert")).toBe("alert");
    expect(worst()).toBe("ok");
  });
  it("percent", () => {
    expect(formatPercent(0.8123)).toBe("81%");
    expect(formatPercent(1)).toBe("100%");
    expect(formatPercent(Number.NaN)).toBe("–");
    expect(formatPercent(null)).toBe("–");
  });
});

describe("agentActivity", () => {
  it("puts work before presence", () => {
    expect(agentActivity({ presence: "available", contacts: [] })).toBe("Available");
    expect(agentActivity({ presence: "available", contacts: [{ state: "offered" }] })).toBe("Ringing");
    expect(agentActivity({ presence: "available", contacts: [{ state: "wrap-up" }, { state: "handling" }] })).toBe("Busy");
    expect(agentActivity({ presence: "not-ready", reason: "lunch", contacts: [{ state: "wrap-up" }] })).toBe("Wrap-up");
    expect(agentActivity({ presence: "not-ready", reason: "lunch" })).toBe("Not Ready (lunch)");
    expect(agentActivity({ presence: "offline", contacts: [{ state: "handling" }] })).toBe("Offline");
  });
  it("times the activity from its own start", () => {
    const offer = { state: "offered", since: "2026-12-02T10:00:05Z" };
    const handling = { state: "handling", since: "2026-12-02T10:00:03Z" };
    const base = { presence: "available", presence_since: "2026-12-02T09:00:00Z" };
    expect(activitySince({ ...base, contacts: [] })).toBe("2026-12-02T09:00:00Z");
    expect(activitySince({ ...base, contacts: [offer] })).toBe("2026-12-02T10:00:05Z");
    expect(activitySince({ ...base, contacts: [offer, handling] })).toBe("2026-12-02T10:00:03Z");  // Busy wins
    expect(activitySince({ ...base, presence: "offline", presence_since: null, contacts: [handling] })).toBeNull();
  });
  it("gives a CSS class", () => {
    expect(activityClass("Not Ready (lunch)")).toBe("not-ready");
    expect(activityClass("Wrap-up")).toBe("wrap-up");
    expect(activityClass("Available")).toBe("available");
  });
});

describe("server clock", () => {
  it("takes the smallest receipt delay as the offset", async () => {
    const { estimateOffset, observeServerTime, resetServerClock, serverNow } = await import("../src/clock");
    expect(estimateOffset([])).toBe(0);
    expect(estimateOffset([1200, 1050, 3000])).toBe(1050);
    resetServerClock();
    // The browser's clock is 60 s ahead of the server's; events arrive 5 ms and 40 ms late.
    const local = Date.now();
    observeServerTime(new Date(local - 60_005).toISOString(), local);
    observeServerTime(new Date(local - 60_040).toISOString(), local);
    observeServerTime("not a time", local);
    expect(Math.abs(serverNow() - (Date.now() - 60_005))).toBeLessThan(50);
    resetServerClock();
  });
});
