import { describe, expect, it } from "vitest";
import { ConfigText } from "../src/admin/configDoc";
import { configUserSpec, rolesOf, rolesText } from "../src/admin/configUsers";

const doc = `# Site users: roles only, passwords through the API.
agents:
  - {id: alice, team: north}
  - {id: bob}
teams:
  - {name: north}
users:
  - {login: admin, name: Site Administrator, roles: [administrator]}
  # The team leads also take contacts.
  - {login: alice, name: Alice Martin, roles: [agent, team_lead], agent: alice, team: north}
  - login: sam
    roles: supervisor   # one role, not a list
`;

function parsed(): ConfigText {
  const t = ConfigText.parse(doc);
  if (!(t instanceof ConfigText)) throw new Error(t.error);
  return t;
}

const ctx = { skills: [], teams: ["north"], queues: [], agents: ["alice", "bob"] };

describe("configured users", () => {
  it("reads roles as a list or one role, in the roles' order", () => {
    expect(rolesOf(["team_lead", "agent"])).toEqual(["agent", "team_lead"]);
    expect(rolesOf("supervisor")).toEqual(["supervisor"]);
    expect(rolesOf(undefined)).toEqual([]);
    expect(rolesOf(["agent", "supervsor"])).toEqual(["agent", "supervsor"]);
    expect(rolesText(["administrator"])).toBe("administrator");
  });

  it("adds a user with roles, team and agent, keeping comments and other entries", () => {
    const t = parsed();
    const f = { ...configUserSpec.empty(), login: "bob", name: "Bob Durand", roles: ["agent"], agent: "bob" };
    expect(configUserSpec.check(f, ctx, ["admin", "alice", "sam"])).toEqual({});
    expect(t.upsert("users", "login", null, {}, configUserSpec.fieldsOf(f))).toBeNull();
    const out = t.toString();
    expect(out).toContain("# Site users: roles only, passwords through the API.");
    expect(out).toContain("  # The team leads also take contacts.");
    expect(out).toContain("roles: supervisor # one role, not a list");
    expect(t.items("users", "login").map((u) => u.login)).toEqual(["admin", "alice", "sam", "bob"]);
    expect(t.items("users", "login")[3]).toEqual({ login: "bob", name: "Bob Durand", roles: ["agent"], agent: "bob" });
  });

  it("writes only the changed fields: a role added to a single-role entry", () => {
    const t = parsed();
    const sam = t.items("users", "login")[2];
    const form = configUserSpec.formOf(sam);
    expect(form).toEqual({ original: "sam", login: "sam", name: "", roles: ["supervisor"], team: "", agent: "" });
    const before = configUserSpec.fieldsOf(form);
    expect(t.upsert("users", "login", "sam", before, configUserSpec.fieldsOf({ ...form, roles: ["supervisor", "qa_analyst"] }))).toBeNull();
    expect(t.items("users", "login")[2].roles).toEqual(["supervisor", "qa_analyst"]);
    // Unchanged entries are written as they were.
    expect(t.toString()).toContain("  - {login: alice, name: Alice Martin, roles: [agent, team_lead], agent: alice, team: north}\n");
  });

  it("unchanged fields write nothing", () => {
    const t = parsed();
    const alice = configUserSpec.formOf(t.items("users", "login")[1]);
    const f = configUserSpec.fieldsOf(alice);
    expect(t.upsert("users", "login", "alice", f, f)).toBeNull();
    expect(t.toString()).toBe(parsed().toString());
  });

  it("checks what the browser can tell before asking", () => {
    const base = configUserSpec.empty();
    expect(configUserSpec.check({ ...base, login: "Nina", agent: "bob" }, ctx, []).login).toMatch(/a-z/);
    expect(configUserSpec.check({ ...base, login: "alice", agent: "bob" }, ctx, ["alice"]).login).toBe("another user is already called alice");
    expect(configUserSpec.check({ ...base, login: "nina", roles: [] }, ctx, []).roles).toBe("choose at least one role");
    expect(configUserSpec.check({ ...base, login: "nina", agent: "" }, ctx, []).agent).toMatch(/agent role/);
    expect(configUserSpec.check({ ...base, login: "nina", agent: "zed" }, ctx, []).agent).toBe("no agent is called zed");
    expect(configUserSpec.check({ ...base, login: "nina", roles: ["team_lead"], team: "west" }, ctx, []).team).toBe("no team is called west");
    expect(configUserSpec.check({ ...base, login: "nina", roles: ["wallboard"] }, ctx, [])).toEqual({});
  });

  it("carries a renamed login into the team it leads", () => {
    const t = ConfigText.parse(doc.replace("  - {name: north}", "  - {name: north, lead: sam}"));
    if (!(t instanceof ConfigText)) throw new Error(t.error);
    expect(t.renameReferences("users", "sam", "samuel")).toBe(1);
    expect(t.items("teams", "name")[0].lead).toBe("samuel");
  });

  it("drops a display name equal to the login", () => {
    expect(configUserSpec.fieldsOf({ ...configUserSpec.empty(), login: "nina", name: "nina", roles: ["wallboard"] }).name).toBeUndefined();
  });
});
