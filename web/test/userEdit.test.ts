import { describe, expect, it } from "vitest";
import { editOf, toggleRole, userChanges } from "../src/admin/userEdit";
import type { User } from "../src/admin/types";

const carol: User = { id: 4, login: "carol", display_name: "Carol", roles: ["agent"], team: "north", agent: "carol", disabled: false, has_password: true, has_sip_credentials: false };

describe("user edit", () => {
  it("starts from the user as read and sends nothing when nothing changed", () => {
    expect(editOf(carol)).toEqual({ roles: ["agent"], team: "north", agent: "carol" });
    expect(userChanges(carol, editOf(carol))).toEqual({ body: {} });
  });

  it("sends only the changed fields: roles in order, a cleared agent link as empty", () => {
    let e = toggleRole(editOf(carol), "team_lead", true);
    e = toggleRole(e, "supervisor", true);
    expect(e.roles).toEqual(["agent", "supervisor", "team_lead"]);
    expect(userChanges(carol, { ...e, agent: " " })).toEqual({ body: { roles: ["agent", "supervisor", "team_lead"], agent: "" } });
    expect(userChanges(carol, { ...editOf(carol), team: "south" })).toEqual({ body: { team: "south" } });
  });

  it("refuses a user without a role", () => {
    expect(userChanges(carol, toggleRole(editOf(carol), "agent", false))).toEqual({ problem: "Choose at least one role." });
  });
});
