// The configuration's `users:` entries (docs/configuration.md, "users[]"; unit-tested in
// test/configUsers.test.ts): login, display name, roles, team and agent link, never a password.
// The form from an entry as read, the browser's checks, and the fields to write back.
import { checkId, orUndefined, text, type EntitySpec, type Errors } from "./entities";
import { allRoles } from "./userEdit";

export interface ConfigUserForm {
  original: string | null;
  login: string;
  name: string;
  roles: string[];
  team: string;
  agent: string;
}

/** The roles of an entry: a list or one role; kept in allRoles' order. */
export function rolesOf(v: unknown): string[] {
  const listed = (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]).map(text);
  return [...allRoles.filter((r) => listed.includes(r)), ...listed.filter((r) => !allRoles.includes(r))];
}

export const configUserSpec: EntitySpec<ConfigUserForm> = {
  section: "users",
  idKey: "login",
  noun: "user",
  empty: () => ({ original: null, login: "", name: "", roles: ["agent"], team: "", agent: "" }),
  formOf: (item) => ({
    original: text(item.login),
    login: text(item.login),
    name: text(item.name),
    roles: rolesOf(item.roles),
    team: text(item.team),
    agent: text(item.agent),
  }),
  fieldsOf: (f) => ({
    login: f.login,
    name: f.name.trim() === "" || f.name.trim() === f.login ? undefined : f.name.trim(),
    roles: rolesOf(f.roles),
    team: orUndefined(f.team),
    agent: orUndefined(f.agent),
  }),
  check(f, ctx, ids) {
    const e: Errors = {};
    const login = checkId(f.login, "user", ids, f.original);
    if (login) e.login = login;
    else if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(f.login))
      e.login = "1-64 characters a-z, 0-9, '.', '_', '-', starting with a letter or digit";
    if (f.roles.length === 0) e.roles = "choose at least one role";
    if (f.team && !ctx.teams.includes(f.team)) e.team = `no team is called ${f.team}`;
    if (f.agent && !ctx.agents.includes(f.agent)) e.agent = `no agent is called ${f.agent}`;
    else if (!f.agent && f.roles.includes("agent")) e.agent = "a user with the agent role works as an agent: choose it";
    return e;
  },
};

/** The roles as the users list shows them. */
export function rolesText(v: unknown): string {
  return rolesOf(v).join(", ");
}

