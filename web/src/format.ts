// Pure formatting and threshold logic shared by the screens (unit-tested in test/format.test.ts).

/** "0:07", "4:05", "1:02:03": a duration in whole seconds as a clock reads it. Negative → "0:00". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) seconds = 0;
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(sec)}` : `${m}:${two(sec)}`;
}

/** Seconds from `since` (ISO 8601, or null) to `now` (ms since the epoch); 0 when unknown. */
export function secondsSince(since: string | null | undefined, now: number): number {
  if (!since) return 0;
  const t = Date.parse(since);
  if (Number.isNaN(t)) return 0;
  return Math.max(0, (now - t) / 1000);
}

/** Whole seconds left until `until` (ISO 8601), never below 0; null when unknown. */
export function secondsLeft(until: string | null | undefined, now: number): number | null {
  if (!until) return null;
  const t = Date.parse(until);
  if (Number.isNaN(t)) return null;
  return Math.max(0, Math.ceil((t - now) / 1000));
}

/** 0.8123 → "81%"; null/NaN → "–" (no contact answered or abandoned yet). */
export function formatPercent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return "–";
  return `${Math.round(ratio * 100)}%`;
}

export type Level = "ok" | "warn" | "alert";

/**
 * The colour of a service level against its target: at or above the target "ok", within
 * `margin` (absolute, default 10 points) below it "warn", further below "alert".
 */
export function serviceLevelLevel(sl: number, target: number, margin = 0.1): Level {
  if (!Number.isFinite(sl)) return "ok";
  const eps = 1e-9;  // 0.8 - 0.1 is 0.7000000000000001 in binary floating point
  if (sl >= target - eps) return "ok";
  if (sl >= target - margin - eps) return "warn";
  return "alert";
}

/**
 * The colour of the longest wait against the queue's service-level time: under half of it "ok",
 * up to it "warn", past it "alert" (the waiting contact already misses the target).
 */
export function waitLevel(longestWaitSeconds: number, targetSeconds: number): Level {
  if (targetSeconds <= 0 || longestWaitSeconds <= 0) return "ok";
  if (longestWaitSeconds >= targetSeconds) return "alert";
  if (longestWaitSeconds >= targetSeconds / 2) return "warn";
  return "ok";
}

/** Abandoned share of offered contacts: over 5% "warn", over 10% "alert". */
export function abandonLevel(abandoned: number, offered: number): Level {
  if (offered <= 0) return "ok";
  const rate = abandoned / offered;
  if (rate > 0.1) return "alert";
  if (rate > 0.05) return "warn";
  return "ok";
}

/** The worst of several levels. */
export function worst(...levels: Level[]): Level {
  if (levels.includes("alert")) return "alert";
  if (levels.includes("warn")) return "warn";
  return "ok";
}

const presenceLabels: Record<string, string> = {
  available: "Available",
  "not-ready": "Not Ready",
  offline: "Offline",
};

/** What an agent is doing, in the words of a wallboard: Offline, Available, Not Ready (lunch), Busy, Wrap-up, Ringing. */
export function agentActivity(agent: {
  presence: string;
  reason?: string;
  contacts?: { state: string }[];
}): string {
  const states = (agent.contacts ?? []).map((c) => c.state);
  if (agent.presence !== "offline") {
    if (states.includes("handling")) return "Busy";
    if (states.includes("wrap-up")) return "Wrap-up";
    if (states.includes("offered")) return "Ringing";
  }
  const label = presenceLabels[agent.presence] ?? agent.presence;
  return agent.presence === "not-ready" && agent.reason ? `${label} (${agent.reason})` : label;
}

/**
 * When the activity agentActivity names began: the contact's stage for Busy, Wrap-up and Ringing
 * (the latest such contact), otherwise the presence change.
 */
export function activitySince(agent: {
  presence: string;
  presence_since: string | null;
  contacts?: { state: string; since: string | null }[];
}): string | null {
  if (agent.presence !== "offline") {
    for (const state of ["handling", "wrap-up", "offered"]) {
      const since = (agent.contacts ?? [])
        .filter((c) => c.state === state && c.since)
        .map((c) => c.since as string)
        .sort()
        .pop();
      if (since) return since;
    }
  }
  return agent.presence_since;
}

/** The first word of agentActivity, as a CSS class: available, not-ready, offline, busy, wrap-up, ringing. */
export function activityClass(activity: string): string {
  return activity.split(" (")[0].toLowerCase().replace(/\s+/g, "-");
}

/** "chat" → "Chat". */
export function titleCase(word: string): string {
  return word ? word[0].toUpperCase() + word.slice(1) : word;
}
