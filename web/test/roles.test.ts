import { describe, expect, it } from "vitest";
import { homeScreen, isWallboardOnly, mayExportReports, mayForceState, mayListen, mayOpen, mayPlanStaffing, mayReadConfig, mayWriteConfig, screensFor } from "../src/roles";
import type { Me } from "../src/types";

// Permissions as docs/security.md grants them.
const agent: Me = {
  login: "bob",
  roles: ["agent"],
  agent: "bob",
  permissions: { "agent.read": "self", "agent.state": "self", "contacts.read": "self", "contacts.handle": "self", "queues.read": "all" },
};
const teamLead: Me = {
  login: "alice",
  roles: ["agent", "team_lead"],
  agent: "alice",
  team: "north",
  permissions: { "agent.read": "team", "agent.state": "team", "contacts.read": "team", "contacts.handle": "team", "queues.read": "all", "wallboard.read": "all" },
};
const supervisor: Me = {
  login: "sam",
  roles: ["supervisor"],
  permissions: { "agent.read": "all", "agent.state": "all", "contacts.read": "all", "contacts.handle": "all", "queues.read": "all", "wallboard.read": "all" },
};
const wallboard: Me = {
  login: "wallboard",
  roles: ["wallboard"],
  permissions: { "agent.read": "all", "queues.read": "all", "wallboard.read": "all" },
};
const qa: Me = { login: "quinn", roles: ["qa_analyst"], permissions: { "agent.read": "all", "contacts.read": "all" } };

describe("staffing", () => {
  it("is for holders of staffing.plan (supervisors, administrators) only", () => {
    const planner: Me = { ...supervisor, permissions: { ...supervisor.permissions, "staffing.plan": "all" } };
    expect(mayPlanStaffing(planner)).toBe(true);
    expect(screensFor(planner)).toEqual(["wallboard", "agents", "staffing"]);
    expect(mayOpen(planner, "staffing")).toBe(true);
    for (const m of [agent, teamLead, wallboard, qa]) {
      expect(mayPlanStaffing(m)).toBe(false);
      expect(mayOpen(m, "staffing")).toBe(false);
    }
  });
});

describe("roles", () => {
  it("give each role its screens", () => {
    expect(screensFor(agent)).toEqual(["desktop"]);
    expect(screensFor(teamLead)).toEqual(["desktop", "wallboard", "agents"]);
    expect(screensFor(supervisor)).toEqual(["wallboard", "agents"]);
    expect(screensFor(wallboard)).toEqual(["wallboard"]);
    expect(screensFor(qa)).toEqual(["agents"]);
  });
  it("land each role on its main screen", () => {
    expect(homeScreen(agent)).toBe("desktop");
    expect(homeScreen(supervisor)).toBe("wallboard");
    expect(homeScreen(wallboard)).toBe("tv");
    expect(isWallboardOnly(wallboard)).toBe(true);
    expect(isWallboardOnly(supervisor)).toBe(false);
  });
  it("guard screens and force-state", () => {
    expect(mayOpen(agent, "wallboard")).toBe(false);
    expect(mayOpen(agent, "tv")).toBe(false);
    expect(mayOpen(supervisor, "tv")).toBe(true);
    expect(mayOpen(wallboard, "agents")).toBe(false);
    expect(mayForceState(agent)).toBe(false);
    expect(mayForceState(teamLead)).toBe(true);
    expect(mayForceState(wallboard)).toBe(false);
  });
});

describe("recordings", () => {
  // recordings.listen as docs/security.md grants it: all for supervisors and QA, team for team leads.
  const listen = (m: Me, reach: "team" | "all"): Me => ({ ...m, permissions: { ...m.permissions, "recordings.listen": reach } });
  it("are a screen for those who may listen, after the others", () => {
    expect(screensFor(listen(supervisor, "all"))).toEqual(["wallboard", "agents", "recordings"]);
    expect(screensFor(listen(teamLead, "team"))).toEqual(["desktop", "wallboard", "agents", "recordings"]);
    expect(screensFor(listen(qa, "all"))).toEqual(["agents", "recordings"]);
    expect(homeScreen(listen(qa, "all"))).toBe("agents");
    expect(mayListen(listen(qa, "all"))).toBe(true);
  });
  it("are hidden from agents and wallboards", () => {
    expect(mayListen(agent)).toBe(false);
    expect(mayOpen(agent, "recordings")).toBe(false);
    expect(mayOpen(wallboard, "recordings")).toBe(false);
  });
});

describe("administration", () => {
  const administrator: Me = {
    login: "admin",
    roles: ["administrator"],
    permissions: { "agent.read": "all", "queues.read": "all", "wallboard.read": "all", "config.read": "all", "config.write": "all", "users.manage": "all" },
  };
  it("is a screen for administrators, and for readers of the configuration", () => {
    expect(screensFor(administrator)).toEqual(["wallboard", "agents", "admin"]);
    expect(homeScreen(administrator)).toBe("wallboard");
    expect(mayOpen(administrator, "admin")).toBe(true);
    expect(mayWriteConfig(administrator)).toBe(true);
    expect(mayOpen(agent, "admin")).toBe(false);
  });
  it("is open read-only to config.read (supervisors) and for editing to config.write", () => {
    const reader: Me = { ...supervisor, permissions: { ...supervisor.permissions, "config.read": "all" } };
    expect(screensFor(reader)).toEqual(["wallboard", "agents", "admin"]);
    expect(mayReadConfig(reader)).toBe(true);
    expect(mayWriteConfig(reader)).toBe(false);
    const admin: Me = { login: "admin", roles: ["administrator"], permissions: { "config.read": "all", "config.write": "all" } };
    expect(mayWriteConfig(admin)).toBe(true);
    expect(mayOpen(admin, "admin")).toBe(true);
    for (const m of [agent, teamLead, wallboard, qa, supervisor]) expect(mayOpen(m, "admin")).toBe(false);
  });
});

describe("report export", () => {
  // reports.export as docs/security.md grants it: supervisors and administrators, not team leads
  // or QA analysts (who read reports but get 403 for a CSV).
  const reader = (m: Me, reach: "self" | "team" | "all"): Me => ({ ...m, permissions: { ...m.permissions, "reports.read": reach } });
  const exporter = (m: Me): Me => ({ ...m, permissions: { ...m.permissions, "reports.export": "all" } });
  it("is for holders of reports.export", () => {
    expect(mayExportReports(exporter(reader(supervisor, "all")))).toBe(true);
    expect(screensFor(exporter(reader(supervisor, "all")))).toContain("reports");
  });
  it("is not for those who only read reports", () => {
    for (const m of [reader(teamLead, "team"), reader(qa, "all"), reader(agent, "self")]) {
      expect(mayExportReports(m)).toBe(false);
    }
    expect(mayOpen(reader(qa, "all"), "reports")).toBe(true);  // the screen, without the CSV
    expect(mayExportReports(wallboard)).toBe(false);
  });
});
