import { describe, expect, it } from "vitest";
import {
  agentsByState,
  appendSample,
  emptyState,
  longestWaitNow,
  reduce,
  withAgents,
  withQueues,
  type LiveState,
} from "../src/state";
import type { Agent, Queue, StreamEvent } from "../src/types";

const agent = (id: string, extra: Partial<Agent> = {}): Agent => ({
  id,
  name: id.toUpperCase(),
  team: "north",
  presence: "offline",
  reason: "",
  presence_since: null,
  contacts: [],
  queues: ["sales"],
  handled_today: 0,
  ...extra,
});

const queue = (name: string, extra: Partial<Queue> = {}): Queue => ({
  name,
  channels: ["voice"],
  priority: 0,
  waiting: 0,
  longest_wait_seconds: 0,
  agents_staffed: 0,
  agents_available: 0,
  agents_busy: 0,
  offered: 0,
  answered: 0,
  abandoned: 0,
  service_level: 1,
  asa_seconds: 0,
  aht_seconds: 0,
  sl_target_seconds: 20,
  sl_target: 0.8,
  ...extra,
});

function run(events: StreamEvent[], start: LiveState = emptyState): LiveState {
  return events.reduce((s, e) => reduce(s, e, 1000), start);
}

const snapshot: StreamEvent = {
  type: "snapshot",
  agents: [agent("alice"), agent("bob", { presence: "available" })],
  queues: [queue("sales")],
};

describe("reduce", () => {
  it("starts from the snapshot", () => {
    const s = run([snapshot]);
    expect(Object.keys(s.agents)).toEqual(["alice", "bob"]);
    expect(s.queues.sales.name).toBe("sales");
    expect(s.queuesAt).toBe(1000);
    expect(s.queuesStale).toBe(false);
  });

  it("follows a contact's life on the agent and marks queue statistics stale", () => {
    const t = (n: number) => `2026-12-02T10:00:0${n}Z`;
    let s = run([snapshot]);
    s = reduce(s, { type: "agent.presence_changed", seq: 1, time: t(1), agent: "alice", presence: "available", reason: "" }, 0);
    expect(s.agents.alice.presence).toBe("available");
    expect(s.agents.alice.presence_since).toBe(t(1));
    expect(s.queuesStale).toBe(true);

    s = withQueues(s, [queue("sales", { waiting: 1 })], 2000);
    expect(s.queuesStale).toBe(false);
    s = reduce(s, { type: "contact.offered", seq: 3, time: t(2), agent: "alice", contact: "7", channel: "chat", queue: "sales" }, 0);
    expect(s.agents.alice.contacts).toEqual([{ contact: "7", channel: "chat", queue: "sales", state: "offered", since: t(2) }]);
    expect(s.staleAgents).toEqual(["alice"]);  // the offer's deadline comes from the server
    expect(s.queuesStale).toBe(true);

    s = reduce(s, { type: "offer.accepted", seq: 4, time: t(3), agent: "alice", contact: "7", channel: "chat", queue: "sales" }, 0);
    expect(s.agents.alice.contacts[0].state).toBe("handling");
    s = reduce(s, { type: "handling.ended", seq: 5, time: t(4), agent: "alice", contact: "7", channel: "chat", queue: "sales" }, 0);
    expect(s.agents.alice.contacts[0].state).toBe("wrap-up");
    expect(s.agents.alice.contacts[0].since).toBe(t(4));
    s = reduce(s, { type: "wrap_up.ended", seq: 6, time: t(5), agent: "alice", contact: "7", channel: "chat", disposition: "resolved" }, 0);
    expect(s.agents.alice.contacts).toEqual([]);
    expect(s.seq).toBe(6);
    expect(s.agents.bob.presence).toBe("available");  // untouched
  });

  it("drops a rejected, timed-out or withdrawn offer", () => {
    for (const type of ["offer.rejected", "offer.timed_out", "offer.withdrawn"]) {
      let s = run([snapshot]);
      s = reduce(s, { type: "contact.offered", seq: 1, agent: "bob", contact: "9", channel: "voice", queue: "sales" }, 0);
      s = reduce(s, { type, seq: 2, agent: "bob", contact: "9", channel: "voice", queue: "sales" }, 0);
      expect(s.agents.bob.contacts).toEqual([]);
    }
  });

  it("ignores events about agents it does not know, and unknown types", () => {
    const s = run([snapshot, { type: "agent.presence_changed", seq: 2, agent: "zed", presence: "available" }, { type: "future.thing", seq: 3, agent: "alice" }]);
    expect(s.agents.zed).toBeUndefined();
    expect(s.agents.alice.presence).toBe("offline");
    expect(s.seq).toBe(3);
  });

  it("asks for a full re-read after a gap, and clears it when all agents arrive", () => {
    let s = run([snapshot, { type: "gap", seq: 41, after: 3, next: 42 } as StreamEvent]);
    expect(s.resync).toBe(true);
    s = withAgents(s, [agent("alice", { presence: "available" })], true);
    expect(s.resync).toBe(false);
    expect(Object.keys(s.agents)).toEqual(["alice"]);
  });

  it("asks for a full re-read after the server's reset", () => {
    const reset = { type: "reset", seq: 42, after: 3, reason: "purged" } as StreamEvent;
    const s = run([snapshot, reset]);
    expect(s.resync).toBe(true);
    expect(s.seq).toBe(42);
  });

  it("merges re-read stale agents", () => {
    let s = run([snapshot, { type: "wrap_up.ended", seq: 9, agent: "alice", contact: "1", channel: "chat" }]);
    expect(s.staleAgents).toEqual(["alice"]);
    s = withAgents(s, [agent("alice", { handled_today: 1 })], false);
    expect(s.staleAgents).toEqual([]);
    expect(s.agents.alice.handled_today).toBe(1);
    expect(s.agents.bob).toBeDefined();
  });
});

describe("wallboard helpers", () => {
  it("ticks the longest wait between reads", () => {
    expect(longestWaitNow(queue("q", { waiting: 2, longest_wait_seconds: 12 }), 10_000, 15_000)).toBe(17);
    expect(longestWaitNow(queue("q", { waiting: 0, longest_wait_seconds: 12 }), 10_000, 15_000)).toBe(0);
  });

  it("counts agents by activity, per queue", () => {
    const agents = [
      agent("a", { presence: "available" }),
      agent("b", { presence: "available", contacts: [{ contact: "1", channel: "voice", queue: "sales", state: "handling", since: null }] }),
      agent("c", { presence: "not-ready", reason: "lunch", contacts: [{ contact: "2", channel: "voice", queue: "sales", state: "wrap-up", since: null }] }),
      agent("d", { presence: "not-ready", reason: "lunch", queues: ["support"] }),
      agent("e", { presence: "offline" }),
    ];
    expect(agentsByState(agents)).toEqual({ available: 1, busy: 1, "wrap-up": 1, "not-ready": 1 });
    expect(agentsByState(agents, "sales")).toEqual({ available: 1, busy: 1, "wrap-up": 1, "not-ready": 0 });
  });

  it("keeps a bounded chart history", () => {
    let h = appendSample([], [queue("sales", { waiting: 3, service_level: 0.5 })], 1, 2);
    h = appendSample(h, [queue("sales", { waiting: 1 })], 2, 2);
    h = appendSample(h, [queue("sales", { waiting: 0 })], 3, 2);
    expect(h.map((s) => s.time)).toEqual([2, 3]);
    expect(h[0].waiting.sales).toBe(1);
  });
});
