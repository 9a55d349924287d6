import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { openEventStream } from "../src/events";
import type { StreamEvent } from "../src/types";

// A stand-in for the browser's WebSocket: records the URLs opened and lets the test play the server.
class FakeSocket {
  static opened: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeSocket.opened.push(this);
  }
  close() {
    this.closed = true;
  }
  // Server side.
  open() {
    this.onopen?.();
  }
  send(e: object | string) {
    this.onmessage?.({ data: typeof e === "string" ? e : JSON.stringify(e) });
  }
  drop() {
    this.onclose?.();
  }
}

describe("openEventStream", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.opened = [];
    vi.stubGlobal("WebSocket", FakeSocket);
    vi.stubGlobal("location", { protocol: "https:", host: "parley.example:8443" });
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("resumes after the last event seen, with a growing delay, and stops for good when closed", () => {
    const events: StreamEvent[] = [];
    const statuses: string[] = [];
    const opens: number[] = [];
    const stop = openEventStream({
      onEvent: (e) => events.push(e),
      onStatus: (s) => statuses.push(s),
      onOpen: () => opens.push(FakeSocket.opened.length),
    });
    expect(FakeSocket.opened[0].url).toBe("wss://parley.example:8443/api/v1/events?after=0");
    const first = FakeSocket.opened[0];
    first.open();
    first.send({ type: "snapshot", agents: [], queues: [] });
    first.send({ type: "agent.presence_changed", seq: 41, agent: "alice" });
    first.send("not json");  // ignored
    first.send({ type: "contact.queued", seq: 42, queue: "sales" });
    expect(events.map((e) => e.type)).toEqual(["snapshot", "agent.presence_changed", "contact.queued"]);

    first.drop();
    expect(statuses[statuses.length - 1]).toBe("closed");
    vi.advanceTimersByTime(499);
    expect(FakeSocket.opened).toHaveLength(1);  // waits before reconnecting
    vi.advanceTimersByTime(1);
    expect(FakeSocket.opened[1].url).toBe("wss://parley.example:8443/api/v1/events?after=42");

    FakeSocket.opened[1].drop();  // refused again: twice the delay
    vi.advanceTimersByTime(999);
    expect(FakeSocket.opened).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.opened).toHaveLength(3);
    FakeSocket.opened[2].open();
    expect(opens).toEqual([1, 3]);
    expect(statuses[statuses.length - 1]).toBe("open");

    stop();
    expect(FakeSocket.opened[2].closed).toBe(true);
    FakeSocket.opened[2].drop();
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.opened).toHaveLength(3);  // no reconnection after stop
  });
});
