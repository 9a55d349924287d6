// The users screen's edit of roles, team and agent link (PUT /api/v1/users/{id};
// unit-tested in test/userEdit.test.ts): the form from a user, and the body of what changed.
import type { User } from "./types";

export const allRoles = ["agent", "supervisor", "team_lead", "qa_analyst", "wallboard", "administrator"];

export interface UserEdit {
  roles: string[];
  team: string;
  agent: string;
}

export function editOf(u: User): UserEdit {
  return { roles: [...u.roles], team: u.team, agent: u.agent };
}

/** Adds or removes `role`, keeping allRoles' order. */
export function toggleRole(edit: UserEdit, role: string, on: boolean): UserEdit {
  const roles = new Set(edit.roles);
  if (on) roles.add(role);
  else roles.delete(role);
  return { ...edit, roles: allRoles.filter((r) => roles.has(r)) };
}

export type ChangeOrProblem = { body: Record<string, unknown> } | { problem: string };

/**
 * The fields that differ from the user as read ("" clears the team or the agent link); an empty
 * body when nothing changed. A user needs at least one role.
 */
export function userChanges(u: User, edit: UserEdit): ChangeOrProblem {
  if (edit.roles.length === 0) return { problem: "Choose at least one role." };
  const body: Record<string, unknown> = {};
  const same = (a: string[], b: string[]) => a.length === b.length && [...a].sort().every((r, i) => r === [...b].sort()[i]);
  if (!same(edit.roles, u.roles)) body.roles = edit.roles;
  if (edit.team.trim() !== u.team) body.team = edit.team.trim();
  if (edit.agent.trim() !== u.agent) body.agent = edit.agent.trim();
  return { body };
}
