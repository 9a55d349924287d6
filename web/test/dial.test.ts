import { afterEach, describe, expect, it, vi } from "vitest";
import { api } from "../src/api";
import {
  callbackNumber,
  consultBody,
  consultKinds,
  dialRequest,
  dialedText,
  normalNumber,
  numberRule,
  transferBody,
} from "../src/dial";

describe("normalNumber", () => {
  it("takes 3 to 20 digits with an optional leading +, as the server does", () => {
    expect(normalNumber("+442079460123")).toBe("+442079460123");
    expect(normalNumber("112")).toBe("112");
    expect(normalNumber("1".repeat(20))).toBe("1".repeat(20));
    expect(normalNumber("+" + "1".repeat(20))).toBe("+" + "1".repeat(20));
  });
  it("drops the separators people type", () => {
    expect(normalNumber(" +1 (555) 123-45.67 ")).toBe("+15551234567");
  });
  it("refuses letters, a + elsewhere, too few or too many digits", () => {
    for (const bad of ["", "12", "+12", "1".repeat(21), "555-CALL", "1+555", "++155512", "1234#", "*123"]) {
      expect(normalNumber(bad), bad).toBeNull();
    }
  });
});

describe("dialRequest", () => {
  it("is the body of POST /api/v1/calls with the number as the server takes it", () => {
    expect(dialRequest("+1 555 123 4567", "sales")).toEqual({ number: "+15551234567", queue: "sales" });
  });
  it("refuses a bad number or no queue before asking", () => {
    expect(dialRequest("12ab", "sales")).toEqual({ problem: numberRule });
    expect(dialRequest("+15551234567", " ")).toEqual({ problem: "Choose the queue the call belongs to." });
  });
  it("says which contact calls which number", () => {
    expect(dialedText({ id: "9", attributes: { "outbound.number": "+15551234567" } }, "x")).toBe(
      "Calling +15551234567 (contact #9): answer your phone.",
    );
    expect(dialedText({ id: "9", attributes: {} }, "+1555")).toContain("Calling +1555 ");
  });
});

describe("callbackNumber", () => {
  it("is the callback.number of a callback contact only", () => {
    expect(callbackNumber({ channel: "callback", attributes: { "callback.number": "+33 6 12 34 56 78" } })).toBe("+33612345678");
    expect(callbackNumber({ channel: "voice", attributes: { "callback.number": "+33612345678" } })).toBe("");
    expect(callbackNumber({ channel: "callback", attributes: { "callback.number": "anonymous" } })).toBe("");
    expect(callbackNumber({ channel: "callback", attributes: {} })).toBe("");
    expect(callbackNumber(undefined)).toBe("");
    expect(callbackNumber({ channel: "callback", attributes: { "callback.number": "+33612345678", "outbound.result": "answered" } })).toBe("");
  });
});

describe("transferBody", () => {
  it("sends exactly one of queue, agent and number", () => {
    expect(transferBody("queue", "support")).toEqual({ queue: "support" });
    expect(transferBody("agent", " bob ")).toEqual({ agent: "bob" });
    expect(transferBody("number", "+1 555 123 4567")).toEqual({ number: "+15551234567" });
  });
  it("refuses an empty target and a number the server would refuse", () => {
    expect(transferBody("queue", "")).toHaveProperty("problem");
    expect(transferBody("agent", "  ")).toHaveProperty("problem");
    expect(transferBody("number", "555-CALL")).toEqual({ problem: numberRule });
  });
});

describe("consultBody", () => {
  it("offers an agent (first) or a queue, not a number", () => {
    expect(consultKinds).toEqual(["agent", "queue"]);
  });
  it("sends exactly one of agent and queue", () => {
    expect(consultBody("agent", " bob ")).toEqual({ agent: "bob" });
    expect(consultBody("queue", "sales")).toEqual({ queue: "sales" });
  });
  it("refuses an empty target in the consultation's words", () => {
    expect(consultBody("agent", "  ")).toEqual({ problem: "Choose or type the agent to consult." });
    expect(consultBody("queue", "")).toEqual({ problem: "Choose the queue to consult." });
    expect(transferBody("queue", "")).toEqual({ problem: "Choose the queue to transfer to." });
  });
});

describe("api.consult", () => {
  afterEach(() => vi.unstubAllGlobals());
  const posted = async (body: ReturnType<typeof consultBody>) => {
    const fetch = vi.fn(
      async () => new Response(JSON.stringify({ id: "7" }), { status: 200, headers: { "Content-Type": "application/json" } }),
    );
    vi.stubGlobal("fetch", fetch);
    if ("problem" in body) throw new Error(body.problem);
    await api.consult("7", body);
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    return { url, method: init.method, body: JSON.parse(String(init.body)) };
  };
  it("posts the agent or the queue chosen, alone", async () => {
    const url = "/api/v1/contacts/7/consult";
    expect(await posted(consultBody("agent", "bob"))).toEqual({ url, method: "POST", body: { agent: "bob" } });
    expect(await posted(consultBody("queue", "sales"))).toEqual({ url, method: "POST", body: { queue: "sales" } });
  });
});
