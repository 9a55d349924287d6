// The server's clock as seen from the browser. Timers and countdowns compare server timestamps
// (presence_since, offer_expires) with "now"; a browser whose clock is off by a minute would show
// nonsense, so each live event's time is used to estimate the offset. An event is received after
// it happened, so (local receipt time - event time) is the offset plus a delay: the smallest
// recent value is the best estimate.

const keep = 20;
const samples: number[] = [];

/** Adds one observation: an event stamped `iso` by the server was received at local `receivedAt`. */
export function observeServerTime(iso: string | undefined, receivedAt: number): void {
  if (!iso) return;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return;
  samples.push(receivedAt - t);
  if (samples.length > keep) samples.shift();
}

/** The estimated (local - server) offset in ms from observations; 0 without any. */
export function estimateOffset(observations: readonly number[]): number {
  return observations.length === 0 ? 0 : Math.min(...observations);
}

/** The server's current time (ms since the epoch), as best known. */
export function serverNow(): number {
  return Date.now() - estimateOffset(samples);
}

/** Tests only: forget all observations. */
export function resetServerClock(): void {
  samples.length = 0;
}
