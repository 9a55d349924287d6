import { describe, expect, it } from "vitest";
import { defaultWhatIf, formatFigure, resultRows, simulationBody, sweepCurve, type SimulationResult } from "../src/staffing/whatif";

describe("what-if body", () => {
  it("sends the scenario, the sweep, and only what differs from the defaults", () => {
    expect(simulationBody(defaultWhatIf)).toEqual({ body: { scenario: defaultWhatIf.scenario, sweep: "groups.a.agents=6:12:1" } });
    expect(simulationBody({ ...defaultWhatIf, replications: "3", sets: "groups.a.agents=9\n\n queues.q.strategy=round-robin ", sweep: "" })).toEqual({
      body: { scenario: defaultWhatIf.scenario, replications: 3, set: ["groups.a.agents=9", "queues.q.strategy=round-robin"] },
    });
  });

  it("says what is wrong before asking", () => {
    expect(simulationBody({ ...defaultWhatIf, scenario: "  " })).toEqual({ message: "The scenario is empty." });
    expect(simulationBody({ ...defaultWhatIf, replications: "11" })).toEqual({ message: "Replications: '11' is not a whole number from 1 to 10" });
    expect(simulationBody({ ...defaultWhatIf, sets: "agents 9" })).toEqual({ message: "What-if 'agents 9': expected PATH=VALUE" });
    expect(simulationBody({ ...defaultWhatIf, sweep: "groups.a.agents=6-12" })).toEqual({ message: "Sweep 'groups.a.agents=6-12': expected PATH=FROM:TO:STEP" });
  });
});

describe("what-if answer", () => {
  const single: SimulationResult = {
    scenario: "what-if",
    overall: { offered: 200, service_level: 0.812, asa: 9.44, abandon_rate: null },
    queues: { q: { offered: 200, service_level: 0.812 } },
    failures: ["scenario.yaml:9:5: expected overall service_level >= 0.9, got 0.812"],
  };
  it("has the overall then each queue, with the failed expectations", () => {
    const rows = resultRows(single);
    expect(rows.map((r) => r.name)).toEqual(["overall", "queue q"]);
    expect(rows[0].failures).toHaveLength(1);
    expect(formatFigure(rows[0].kpis.service_level, "percent")).toBe("81.2%");
    expect(formatFigure(rows[0].kpis.asa, "seconds")).toBe("9.4");
    expect(formatFigure(rows[0].kpis.abandon_rate, "percent")).toBe("–");
    expect(formatFigure({ mean: 0.8, ci95: 0.012, n: 3 }, "percent")).toBe("80.0% ± 1.2%");
  });

  it("has one row and one point per swept value", () => {
    const sweep: SimulationResult = {
      sweep: "groups.a.agents",
      runs: [
        { value: "6", overall: { service_level: 0.41, abandon_rate: 0.2 }, failures: [] },
        { value: "8", overall: { service_level: { mean: 0.8, ci95: 0.01, n: 2 }, abandon_rate: 0.05 }, failures: [] },
      ],
    };
    expect(resultRows(sweep).map((r) => r.name)).toEqual(["groups.a.agents = 6", "groups.a.agents = 8"]);
    expect(sweepCurve(sweep)).toEqual([
      { x: 6, sl: 41, abandon: 20 },
      { x: 8, sl: 80, abandon: 5 },
    ]);
    expect(sweepCurve(single)).toBeNull();
  });
});
