import { describe, expect, it } from "vitest";
import {
  audioUrl,
  contactFromHash,
  filterProblems,
  filtersFromHash,
  filtersHash,
  formatBytes,
  noFilters,
  recordingsPath,
} from "../src/recordings/model";

const query = (path: string) => Object.fromEntries(new URLSearchParams(path.split("?")[1]));

describe("recordings search", () => {
  it("asks for every recording, one page, without filters", () => {
    expect(recordingsPath(noFilters)).toBe("/recordings?limit=25");
  });

  it("turns calendar days into the start of the first day and of the day after the last", () => {
    const q = query(recordingsPath({ ...noFilters, from: "2026-03-01", to: "2026-03-31" }));
    expect(q.from).toBe(new Date(2026, 2, 1).toISOString());
    expect(q.to).toBe(new Date(2026, 3, 1).toISOString());
  });

  it("passes queue, agent and customer trimmed, and the page's after", () => {
    const q = query(recordingsPath({ ...noFilters, queue: " sales ", agent: "alice", customer: "17" }, "42", 10));
    expect(q).toEqual({ queue: "sales", agent: "alice", customer: "17", after: "42", limit: "10" });
  });

  it("says what is wrong before asking", () => {
    expect(filterProblems(noFilters)).toEqual([]);
    expect(filterProblems({ ...noFilters, from: "2026-03-02", to: "2026-03-01" })).toEqual(["From is after To."]);
    expect(filterProblems({ ...noFilters, customer: "Dupont" })).toEqual(["Customer is a customer number (digits)."]);
    expect(filterProblems({ ...noFilters, from: "yesterday" })).toEqual(["From is not a date."]);
  });
});

describe("hash routes", () => {
  it("carry filters both ways", () => {
    const f = { ...noFilters, queue: "sales", agent: "alice" };
    expect(filtersHash(f)).toBe("#/recordings?queue=sales&agent=alice");
    expect(filtersFromHash(filtersHash(f).slice(2))).toEqual(f);
    expect(filtersHash(noFilters)).toBe("#/recordings");
    expect(filtersFromHash("recordings")).toEqual(noFilters);
  });

  it("name one contact's recordings", () => {
    expect(contactFromHash("recordings?contact=17")).toBe("17");
    expect(contactFromHash("recordings?contact=x")).toBeNull();
    expect(contactFromHash("recordings")).toBeNull();
  });
});

describe("formatting", () => {
  it("sizes and audio URLs", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(2048)).toBe("2.0 KiB");
    expect(formatBytes(3 * 1024 * 1024 + 512 * 1024)).toBe("3.5 MiB");
    expect(audioUrl("6")).toBe("/api/v1/recordings/6/audio");
  });
});
