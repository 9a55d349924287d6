import { useEffect, useRef, useState } from "react";
import { openEventStream, type StreamStatus } from "./events";
import { api } from "./api";
import { observeServerTime, serverNow } from "./clock";
import type { StreamEvent } from "./types";

/** The server's current time (ms), re-rendering every `periodMs`: drives timers and countdowns. */
export function useNow(periodMs = 1000): number {
  const [now, setNow] = useState(() => serverNow());
  useEffect(() => {
    const id = setInterval(() => setNow(serverNow()), periodMs);
    return () => clearInterval(id);
  }, [periodMs]);
  return now;
}

/** Subscribes the component to the event stream for as long as it is mounted. */
export function useEventStream(onEvent: (e: StreamEvent) => void, onOpen?: () => void): StreamStatus {
  const [status, setStatus] = useState<StreamStatus>("connecting");
  const handlers = useRef({ onEvent, onOpen });
  handlers.current = { onEvent, onOpen };
  useEffect(
    () =>
      openEventStream({
        onEvent: (e) => {
          // Replayed (old) events give larger delays, which the estimate's minimum ignores.
          const notice = e.type === "snapshot" || e.type === "gap" || e.type === "reset";
          if (!notice) observeServerTime(e.time, Date.now());
          handlers.current.onEvent(e);
        },
        onOpen: () => handlers.current.onOpen?.(),
        onStatus: (s) => {
          setStatus(s);
          // A refused or dropped stream may mean the session ended: /me answers 401 then, which
          // sends the user back to the login screen (App.tsx).
          if (s === "closed") api.me().catch(() => undefined);
        },
      }),
    [],
  );
  return status;
}

/**
 * Runs `task` at most once at a time, then waits `minGapMs`; calls meanwhile schedule exactly one
 * more run. Coalesces bursts of events into few re-reads of the REST API.
 */
export function useCoalesced(task: () => Promise<void>, minGapMs = 300): () => void {
  const taskRef = useRef(task);
  taskRef.current = task;
  const [run] = useState(() => {
    let busy = false;
    let again = false;
    const go = (): void => {
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      taskRef.current()
        .catch(() => undefined)
        .finally(() =>
          setTimeout(() => {
            busy = false;
            if (again) {
              again = false;
              go();
            }
          }, minGapMs),
        );
    };
    return go;
  });
  return run;
}
