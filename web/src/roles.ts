// Which screens a user may open, from GET /api/v1/me (unit-tested in test/roles.test.ts).
import type { Me } from "./types";

export type Screen = "desktop" | "wallboard" | "agents" | "reports" | "staffing" | "recordings" | "admin" | "tv";

const wide = (reach: string | undefined) => reach === "team" || reach === "all";

/** The screens of the navigation bar, in order. TV mode is opened from the wallboard. */
export function screensFor(me: Me): Screen[] {
  const p = me.permissions ?? {};
  const out: Screen[] = [];
  if (me.agent && p["contacts.handle"]) out.push("desktop");
  if (p["queues.read"] && (p["wallboard.read"] || wide(p["agent.read"]))) out.push("wallboard");
  if (wide(p["agent.read"]) && !isWallboardOnly(me)) out.push("agents");
  if (wide(p["reports.read"])) out.push("reports");
  if (mayPlanStaffing(me)) out.push("staffing");
  if (mayListen(me)) out.push("recordings");
  if (isAdministrator(me) || mayReadConfig(me)) out.push("admin");
  return out;
}

/** May open the administration screens: edits the configuration or manages users. */
export function isAdministrator(me: Me): boolean {
  const p = me.permissions ?? {};
  return p["config.write"] === "all" || p["users.manage"] === "all";
}

/** May read the configuration (config.read: supervisors too), which the Admin screen shows read-only. */
export function mayReadConfig(me: Me): boolean {
  return me.permissions?.["config.read"] === "all";
}

/** May change the configuration (config.write: administrators). */
export function mayWriteConfig(me: Me): boolean {
  return me.permissions?.["config.write"] === "all";
}

/** A read-only lobby screen login: only the TV wallboard. */
export function isWallboardOnly(me: Me): boolean {
  return me.roles.length > 0 && me.roles.every((r) => r === "wallboard");
}

/** Where a user lands after logging in. */
export function homeScreen(me: Me): Screen | null {
  if (isWallboardOnly(me)) return "tv";
  return screensFor(me)[0] ?? null;
}

/** Whether `screen` may be shown to `me` (TV mode wherever the wallboard may be). */
export function mayOpen(me: Me, screen: Screen): boolean {
  if (screen === "tv") return screensFor(me).includes("wallboard") || isWallboardOnly(me);
  return screensFor(me).includes(screen);
}

/** May list and play call recordings (administrators, supervisors, QA analysts, team leads). */
export function mayListen(me: Me): boolean {
  return Boolean(me.permissions?.["recordings.listen"]);
}

/** May run staffing and what-if computations (staffing.plan: supervisors, administrators). */
export function mayPlanStaffing(me: Me): boolean {
  return Boolean(me.permissions?.["staffing.plan"]);
}

/**
 * May download reports as CSV: a CSV is an export and needs reports.export besides reports.read
 * (supervisors, administrators); the server answers 403 to the rest (team leads, QA analysts).
 */
export function mayExportReports(me: Me): boolean {
  return Boolean(me.permissions?.["reports.export"]) && Boolean(me.permissions?.["reports.read"]);
}

/** May force other agents' states (the agent grid's buttons). */
export function mayForceState(me: Me): boolean {
  return wide(me.permissions?.["agent.state"]);
}

export const screenTitles: Record<Screen, string> = {
  desktop: "Desktop",
  wallboard: "Wallboard",
  agents: "Agents",
  reports: "Reports",
  staffing: "Staffing",
  recordings: "Recordings",
  admin: "Admin",
  tv: "TV",
};
