import { describe, expect, it } from "vitest";
import { buildEdit, changesSomething, emptyStep, formFrom, problemsByField } from "../src/admin/queueForm";
import { changeText, lineRange, problemLines, problemText } from "../src/admin/configText";
import type { QueueSettings } from "../src/admin/types";

const settings: QueueSettings = {
  name: "sales",
  version: 4,
  strategy: "longest-idle",
  service_level: { target: 0.8, seconds: 20 },
  priority: 0,
  max_wait: 0,
  max_size: 0,
  offer_timeout: 20,
  wrap_up: 30,
  escalation: [{ after: 60, skills: { sales: 1 }, priority_boost: 0 }],
};

describe("queue form", () => {
  it("reads the settings into text fields", () => {
    const f = formFrom(settings);
    expect(f.sl_target_percent).toBe("80");
    expect(f.wrap_up).toBe("30");
    expect(f.escalation[0].skills).toBe("sales:1");
  });

  it("sends only what changed, with the version", () => {
    const original = formFrom(settings);
    const form = { ...original, wrap_up: "45s", sl_target_percent: "90" };
    const b = buildEdit(form, original, 4);
    expect(b.errors).toEqual({});
    expect(b.body).toEqual({ version: 4, wrap_up: "45s", service_level: { target: 0.9, seconds: 20 } });
    expect(changesSomething(b)).toBe(true);
    expect(changesSomething(buildEdit(original, original, 4))).toBe(false);
  });

  it("names the fields it can tell are wrong before sending", () => {
    const original = formFrom(settings);
    const b = buildEdit({ ...original, priority: "high", offer_timeout: "soon", sl_target_percent: "" }, original, 4);
    expect(Object.keys(b.errors).sort()).toEqual(["offer_timeout", "priority", "service_level"]);
  });

  it("builds escalation steps", () => {
    const original = formFrom(settings);
    const step = { ...emptyStep(), after: "2m", teams: "north, south", overflow: "support" };
    const b = buildEdit({ ...original, escalation: [...original.escalation, step] }, original, 4);
    expect(b.body.escalation).toEqual([
      { after: 60, priority_boost: 0, skills: { sales: 1 } },
      { after: "2m", priority_boost: 0, teams: ["north", "south"], overflow: "support" },
    ]);
    const bad = buildEdit({ ...original, escalation: [{ ...step, skills: "sales" }] }, original, 4);
    expect(bad.errors.escalation).toContain("skill:level");
  });

  it("places the server's problems next to their fields", () => {
    const by = problemsByField([
      { line: 9, column: 13, message: "target must be in (0, 1]", field: "service_level" },
      { line: 2, column: 1, message: "somewhere else" },
    ]);
    expect(by.service_level).toEqual(["target must be in (0, 1]"]);
    expect(by[""]).toEqual(["somewhere else"]);
  });
});

describe("configuration text", () => {
  it("formats problems and finds their lines", () => {
    const problems = [
      { line: 3, column: 14, message: "unknown strategy 'fastest'" },
      { line: 3, column: 20, message: "again" },
      { line: 1, column: 1, message: "first" },
    ];
    expect(problemText(problems[0])).toBe("3:14: unknown strategy 'fastest'");
    expect(problemLines(problems)).toEqual([1, 3]);
  });

  it("gives the character range of a line", () => {
    const text = "a: 1\nbb: 2\nccc: 3";
    expect(lineRange(text, 2)).toEqual([5, 10]);
    expect(text.slice(...lineRange(text, 3))).toBe("ccc: 3");
    expect(lineRange(text, 9)).toEqual([text.length, text.length]);
  });

  it("words changes like parley config apply", () => {
    expect(changeText({ section: "queues", item: "sales", change: "changed" })).toBe("~ queues sales");
    expect(changeText({ section: "retention", item: "", change: "added" })).toBe("+ retention");
  });
});
