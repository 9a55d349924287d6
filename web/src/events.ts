// The /api/v1/events WebSocket: one connection per screen, reconnecting with a growing delay and
// resuming after the last sequence number seen, so no event is lost across a short outage.
import type { StreamEvent } from "./types";

export type StreamStatus = "connecting" | "open" | "closed";

export interface EventStreamOptions {
  onEvent: (e: StreamEvent) => void;
  onStatus?: (s: StreamStatus) => void;
  /** Called on every (re)connection before any message: re-read what may have changed meanwhile. */
  onOpen?: () => void;
}

/** Opens the stream; returns a function that closes it for good. */
export function openEventStream(options: EventStreamOptions): () => void {
  let socket: WebSocket | null = null;
  let lastSeq = 0;
  let retryMs = 500;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const connect = () => {
    options.onStatus?.("connecting");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/api/v1/events?after=${lastSeq}`);
    socket.onopen = () => {
      retryMs = 500;
      options.onStatus?.("open");
      options.onOpen?.();
    };
    socket.onmessage = (m) => {
      let e: StreamEvent;
      try {
        e = JSON.parse(String(m.data)) as StreamEvent;
      } catch {
        return;  // not JSON: ignored, as the API asks of clients for unknown messages
      }
      if (typeof e.seq === "number" && e.type !== "snapshot") lastSeq = Math.max(lastSeq, e.seq);
      options.onEvent(e);
    };
    socket.onclose = () => {
      socket = null;
      if (stopped) return;
      options.onStatus?.("closed");
      timer = setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10_000);
    };
  };
  connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    socket?.close();
  };
}
