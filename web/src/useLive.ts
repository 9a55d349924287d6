// The supervisor's live picture: the event stream's snapshot and events through the reducer,
// with coalesced re-reads of what events do not carry (queue statistics, agents' counters).
import { useEffect, useRef, useState } from "react";
import { api } from "./api";
import { serverNow } from "./clock";
import { useCoalesced, useEventStream } from "./hooks";
import { emptyState, reduce, withAgents, withQueues, type LiveState } from "./state";
import type { StreamStatus } from "./events";
import type { StreamEvent } from "./types";

/**
 * `readQueues`: the user holds queues.read (without it, /api/v1/queues answers 403). `onEvent`
 * also sees every stream message, for what the reducer does not keep (monitoring of calls).
 */
export function useLive(
  readQueues: boolean,
  onEvent?: (e: StreamEvent) => void,
): { live: LiveState; stream: StreamStatus } {
  const [live, setLive] = useState<LiveState>(emptyState);
  const latest = useRef(live);
  latest.current = live;

  const refreshQueues = useCoalesced(async () => {
    if (!readQueues) return;
    const queues = await api.queues();
    setLive((s) => withQueues(s, queues, serverNow()));
  }, 250);
  const refreshAgents = useCoalesced(async () => {
    const s = latest.current;
    if (s.resync) {
      const agents = await api.agents();
      setLive((cur) => withAgents(cur, agents, true));
      return;
    }
    const agents = await Promise.all(s.staleAgents.map((id) => api.agent(id)));
    setLive((cur) => withAgents(cur, agents, false));
  }, 250);

  const stream = useEventStream((e) => {
    setLive((s) => reduce(s, e, serverNow()));
    onEvent?.(e);
  });

  useEffect(() => {
    if (live.queuesStale || live.resync) refreshQueues();
    if (live.staleAgents.length > 0 || live.resync) refreshAgents();
  }, [live.queuesStale, live.staleAgents, live.resync, refreshQueues, refreshAgents]);

  // Statistics such as the service level also move with time alone: re-read them now and then.
  useEffect(() => {
    const id = setInterval(refreshQueues, 10_000);
    return () => clearInterval(id);
  }, [refreshQueues]);

  return { live, stream };
}
