import { describe, expect, it } from "vitest";
import { defaultForm, fieldOfMessage, formFields, neighbourRows, serviceLevelCurve, staffingBody, type StaffingPlan } from "../src/staffing/model";

describe("staffing body", () => {
  it("sends the fields the model uses, percentages as fractions, empty ones left out", () => {
    expect(staffingBody(defaultForm)).toEqual({
      body: { calls: 360, interval_seconds: 1800, aht: 240, target_sl: 0.8, target_seconds: 20, shrinkage: 0.3 },
    });
  });

  it("adds patience for Erlang A and sizes lines for Erlang B", () => {
    const a = staffingBody({ ...defaultForm, model: "erlang_a" });
    expect("body" in a && a.body.patience).toBe(120);
    const b = staffingBody({ ...defaultForm, model: "erlang_b", lines: "60", mode: "forecast" });
    expect(b).toEqual({ body: { calls: 360, interval_seconds: 1800, aht: 240, target_blocking: 0.01, lines: 60, erlang_b: true } });
  });

  it("sends a forecast's text instead of calls and AHT", () => {
    const f = staffingBody({ ...defaultForm, mode: "forecast" });
    expect("body" in f && Object.keys(f.body).sort()).toEqual(["forecast", "interval_seconds", "shrinkage", "target_seconds", "target_sl"]);
    expect(formFields("forecast", "erlang_c")).not.toContain("agents");
  });

  it("refuses what is not a number before asking, naming the field", () => {
    expect(staffingBody({ ...defaultForm, calls: "many" })).toEqual({ field: "calls", message: "Contacts in the interval: 'many' is not a number" });
    expect(staffingBody({ ...defaultForm, agents: "50.5" })).toEqual({ field: "agents", message: "Evaluate agents: '50.5' is not a whole number" });
  });
});

describe("server messages", () => {
  it("name the form field they are about", () => {
    expect(fieldOfMessage("target_sl must be a fraction in (0, 1], got 1.5")).toBe("target_sl_percent");
    expect(fieldOfMessage("body.calls must be a number, got string")).toBe("calls");
    expect(fieldOfMessage("forecast: line 3, field contacts: 'x' is not a number >= 0")).toBe("forecast");
    expect(fieldOfMessage("give at least one target (target_sl, ...)")).toBeNull();
  });
});

describe("staffing answer", () => {
  const row = (agents: number, sl: number) => ({ agents, service_level: sl, probability_of_waiting: 0, asa_seconds: 1, occupancy: 0.9, stable: true });
  const plan: StaffingPlan = {
    model: "erlang_c",
    offered_load_erlangs: 48,
    agents: 54,
    table: [50, 51, 52, 53, 54, 55, 56, 57].map((a) => row(a, (a - 40) / 20)),
  };
  it("shows N and two neighbours each side in the table", () => {
    expect(neighbourRows(plan).map((r) => r.agents)).toEqual([52, 53, 54, 55, 56]);
  });
  it("charts the service level in % against agents", () => {
    expect(serviceLevelCurve(plan)[4]).toEqual([54, 70]);
    expect(serviceLevelCurve({ model: "erlang_b", offered_load_erlangs: 1 })).toEqual([]);
  });
});
