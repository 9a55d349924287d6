// Users: the list (no secrets), create with a role (the generated password is shown once),
// change roles, team and agent link, disable and enable, reset a password, give a phone a new
// SIP password (generated, shown once, taken by the phone's next REGISTER). Users the
// configuration declares are changed in the configuration (the server answers 409 and says so).
import { useCallback, useEffect, useState } from "react";
import { api, ApiError } from "../api";
import { adminApi } from "../admin/api";
import type { User } from "../admin/types";
import { allRoles as roles, editOf, toggleRole, userChanges, type UserEdit } from "../admin/userEdit";
import type { Me } from "../types";

function message(e: unknown): string {
  return e instanceof ApiError ? e.message : "The server cannot be reached.";
}

export function AdminUsers({ me }: { me: Me }) {
  const [users, setUsers] = useState<User[]>([]);
  const [error, setError] = useState("");
  const [secret, setSecret] = useState<{ login: string; password: string; sip?: boolean } | null>(null);
  const [login, setLogin] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState("agent");
  const [agent, setAgent] = useState("");
  const [editing, setEditing] = useState<{ user: User; edit: UserEdit } | null>(null);
  const [agents, setAgents] = useState<string[]>([]);

  const load = useCallback(() => {
    adminApi.users().then(setUsers).catch((e) => setError(message(e)));
  }, []);
  useEffect(load, [load]);
  // The agents the link may name (offered as choices; the server checks the name).
  useEffect(() => {
    if (!me.permissions["agent.read"]) return;
    api
      .agents()
      .then((list) => setAgents(list.map((a) => a.id).sort()))
      .catch(() => undefined);
  }, [me.permissions]);

  const save = (ev: React.FormEvent) => {
    ev.preventDefault();
    if (!editing) return;
    const change = userChanges(editing.user, editing.edit);
    if ("problem" in change) {
      setError(change.problem);
      return;
    }
    if (Object.keys(change.body).length === 0) {
      setEditing(null);
      return;
    }
    act(async () => {
      await adminApi.updateUser(editing.user.id, change.body);
      setEditing(null);
    });
  };

  const act = async (f: () => Promise<unknown>) => {
    setError("");
    setSecret(null);
    try {
      await f();
    } catch (e) {
      setError(message(e));
    }
    load();
  };

  const create = (ev: React.FormEvent) => {
    ev.preventDefault();
    act(async () => {
      const body: Record<string, unknown> = { login: login.trim(), role };
      if (name.trim()) body.display_name = name.trim();
      if (agent.trim()) body.agent = agent.trim();
      const r = await adminApi.createUser(body);
      if (r.password) setSecret({ login: r.user.login, password: r.password });
      setLogin("");
      setName("");
      setAgent("");
    });
  };

  return (
    <div className="admin-users">
      <form className="card user-create" aria-label="New user" onSubmit={create}>
        <h2>New user</h2>
        <label><span>Login</span><input name="new-login" required value={login} onChange={(e) => setLogin(e.target.value)} /></label>
        <label><span>Name</span><input name="new-name" value={name} onChange={(e) => setName(e.target.value)} /></label>
        <label>
          <span>Role</span>
          <select name="new-role" value={role} onChange={(e) => setRole(e.target.value)}>
            {roles.map((r) => <option key={r} value={r}>{r}</option>)}
          </select>
        </label>
        <label><span>Agent</span><input name="new-agent" placeholder="agent id (optional)" value={agent} onChange={(e) => setAgent(e.target.value)} /></label>
        <button type="submit">Create</button>
      </form>
      {editing && (
        <form className="card user-edit" aria-label={`Edit user ${editing.user.login}`} onSubmit={save} data-testid="user-editor">
          <h2>Edit {editing.user.login}</h2>
          <fieldset>
            <legend>Roles</legend>
            {roles.map((r) => (
              <label key={r} className="check">
                <input
                  type="checkbox"
                  name={`role-${r}`}
                  checked={editing.edit.roles.includes(r)}
                  onChange={(e) => setEditing({ ...editing, edit: toggleRole(editing.edit, r, e.target.checked) })}
                />
                {r}
              </label>
            ))}
          </fieldset>
          <label><span>Team</span><input name="edit-team" value={editing.edit.team} onChange={(e) => setEditing({ ...editing, edit: { ...editing.edit, team: e.target.value } })} /></label>
          <label>
            <span>Agent</span>
            <input
              name="edit-agent"
              list="user-edit-agents"
              placeholder="none"
              value={editing.edit.agent}
              onChange={(e) => setEditing({ ...editing, edit: { ...editing.edit, agent: e.target.value } })}
            />
            <datalist id="user-edit-agents">{agents.map((a) => <option key={a} value={a} />)}</datalist>
          </label>
          <button type="submit">Save</button>
          <button type="button" className="link" onClick={() => setEditing(null)}>Cancel</button>
        </form>
      )}
      {error && <p className="error" role="alert" data-testid="users-error">{error}</p>}
      {secret && (
        <p className="card secret" role="status" data-testid="new-password">
          {secret.sip ? "SIP password" : "Password"} of <strong>{secret.login}</strong>: <code>{secret.password}</code> —
          shown once; pass it on now.
        </p>
      )}
      <div className="card table-wrap">
        <table data-testid="user-table">
          <thead>
            <tr><th>Login</th><th>Name</th><th>Roles</th><th>Team</th><th>Agent</th><th>State</th><th>SIP password</th><th /></tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id} data-user={u.login}>
                <td>{u.login}</td>
                <td>{u.display_name}</td>
                <td>{u.roles.join(", ")}</td>
                <td>{u.team}</td>
                <td>{u.agent}</td>
                <td>{u.disabled ? "disabled" : u.has_password ? "active" : "no password"}</td>
                <td>{u.has_sip_credentials ? "set" : "not set"}</td>
                <td className="actions">
                  <button type="button" onClick={() => { setError(""); setEditing({ user: u, edit: editOf(u) }); }}>
                    Edit
                  </button>
                  {u.login !== me.login && (
                    <button type="button" onClick={() => act(() => adminApi.setDisabled(u.id, !u.disabled))}>
                      {u.disabled ? "Enable" : "Disable"}
                    </button>
                  )}
                  <button
                    type="button"
                    onClick={() =>
                      act(async () => {
                        const r = await adminApi.resetPassword(u.id);
                        if (r.password) setSecret({ login: u.login, password: r.password });
                      })
                    }
                  >
                    Reset password
                  </button>
                  <button
                    type="button"
                    onClick={() =>
                      act(async () => {
                        const r = await adminApi.setSipPassword(u.id);
                        if (r.password) setSecret({ login: u.login, password: r.password, sip: true });
                      })
                    }
                  >
                    New SIP password
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
