import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { checkStep, fieldValue, parseMap, problemsOfStep, stepFormOf, stepsOf, writeStep } from "../src/admin/flowSteps";

const flow = `name: main
# The greeting first.
start: welcome
steps:
  - {id: welcome, type: play, prompt: "Welcome to Demo.", next: menu}   # keep me
  - id: menu
    type: menu
    prompt: {text: "For sales press 1.", language: en-GB}
    options: {"1": sales}
    timeout: 5s
    exits: {failure: sales}
  - id: sales
    type: queue
    queue: sales
    max_wait: 10m
  - {id: out, type: transfer, to: {number: "+15551234567"}}
  - {id: bye, type: hangup}
  - {id: think, type: set, values: {a: b}}
`;

describe("the steps of a flow", () => {
  it("lists each step with its lines", () => {
    expect(stepsOf(flow).map((s) => [s.id, s.type, s.from, s.to])).toEqual([
      ["welcome", "play", 5, 5],
      ["menu", "menu", 6, 11],
      ["sales", "queue", 12, 15],
      ["out", "transfer", 16, 16],
      ["bye", "hangup", 17, 17],
      ["think", "set", 18, 18],
    ]);
    expect(stepsOf("not: [valid")).toEqual([]);
  });

  it("picks the server's problems that fall in a step", () => {
    const [, menu] = stepsOf(flow);
    const problems = [
      { line: 7, column: 5, message: "in menu", inItem: true },
      { line: 12, column: 5, message: "in sales", inItem: true },
      { line: 7, column: 5, message: "elsewhere in the document", inItem: false },
    ];
    expect(problemsOfStep(menu, problems).map((p) => p.message)).toEqual(["in menu"]);
  });
});

describe("a step's form", () => {
  it("reads the fields and exits of its type", () => {
    expect(stepFormOf(flow, 0)).toEqual({ type: "play", form: { prompt: "Welcome to Demo.", next: "menu" }, complex: [] });
    const menu = stepFormOf(flow, 1)!;
    expect(menu.form.options).toBe("1: sales");
    expect(menu.form.timeout).toBe("5s");
    expect(menu.form["exit.failure"]).toBe("sales");
    // A prompt with a language is left to the YAML text.
    expect(menu.complex).toEqual(["prompt"]);
    expect(stepFormOf(flow, 3)!.form).toEqual({ "to.kind": "number", "to.value": "+15551234567" });
    expect(stepFormOf(flow, 9)).toBeNull();
  });

  it("writes only the changed fields, keeping comments, quotes and the other steps", () => {
    const before = stepFormOf(flow, 2)!.form;
    const out = writeStep(flow, 2, "queue", before, { ...before, max_wait: "5m", priority: "3", "exit.timeout": "bye" });
    const doc = parse(out);
    expect(doc.steps[2]).toEqual({ id: "sales", type: "queue", queue: "sales", max_wait: "5m", priority: 3, exits: { timeout: "bye" } });
    expect(out).toContain("# The greeting first.");
    expect(out).toContain('  - {id: welcome, type: play, prompt: "Welcome to Demo.", next: menu} # keep me');
    expect(doc.steps[1].prompt).toEqual({ text: "For sales press 1.", language: "en-GB" });
  });

  it("removes an emptied field and sets exits in an existing exits map", () => {
    const menu = stepFormOf(flow, 1)!.form;
    const out = writeStep(flow, 1, "menu", menu, { ...menu, timeout: "", options: "1: sales, 2: bye", "exit.failure": "bye" });
    const step = parse(out).steps[1];
    expect(step.timeout).toBeUndefined();
    expect(step.options).toEqual({ "1": "sales", "2": "bye" });
    expect(step.exits).toEqual({ failure: "bye" });
  });

  it("writes a transfer's target as one key", () => {
    const f = stepFormOf(flow, 3)!.form;
    const out = writeStep(flow, 3, "transfer", f, { "to.kind": "queue", "to.value": "sales" });
    expect(parse(out).steps[3].to).toEqual({ queue: "sales" });
  });

  it("checks what the browser can tell: numbers, durations, maps and step names", () => {
    const ids = stepsOf(flow).map((s) => s.id);
    const menu = stepFormOf(flow, 1)!.form;
    expect(checkStep("menu", menu, ids)).toEqual({});
    expect(checkStep("menu", { ...menu, retries: "two", timeout: "soon", options: "1: nowhere", "exit.failure": "gone" }, ids)).toEqual({
      retries: "a whole number",
      timeout: "seconds or a duration such as 30s, 2m",
      options: "no step is called nowhere",
      "exit.failure": "no step is called gone",
    });
    expect(checkStep("transfer", { "to.kind": "queue", "to.value": "" }, ids)).toEqual({ to: "where the contact goes" });
  });

  it("reads maps and values from one line", () => {
    expect(parseMap("1: sales, 9: callback")).toEqual({ "1": "sales", "9": "callback" });
    expect(parseMap("1 sales")).toMatch(/KEY: VALUE/);
    expect(parseMap("1: a, 1: b")).toBe("1 is listed twice");
    expect(fieldValue("flag", "false")).toEqual({ value: false });
    expect(fieldValue("duration", "30")).toEqual({ value: 30 });
    expect(fieldValue("text", "  ")).toEqual({ value: undefined });
  });
});
