import type { StreamStatus } from "../events";

const text: Record<StreamStatus, string> = { connecting: "connecting…", open: "live", closed: "reconnecting…" };

/** Whether the event stream is live: a stale screen must say so. */
export function StreamBadge({ status }: { status: StreamStatus }) {
  return (
    <span className={`stream ${status}`} role="status" data-testid="stream">
      {text[status]}
    </span>
  );
}
