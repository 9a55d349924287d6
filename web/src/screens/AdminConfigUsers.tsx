// The configuration's `users:` entries (docs/configuration.md, "users[]"): login, display name,
// roles, team and agent link, edited in the document like the other structured editors
// (AdminItems.tsx applies it). Passwords are never in the configuration: the Users tab sets them.
import { configUserSpec, rolesText, type ConfigUserForm } from "../admin/configUsers";
import { allRoles } from "../admin/userEdit";
import { FieldError, ItemsEditor, useConfig, type FormProps } from "./AdminItems";
import { Text } from "./AdminSections";

const str = (v: unknown) => (v === undefined || v === null ? "" : String(v));

/** A select among `names`, keeping a value the document has even when it names nothing known. */
function Choice({ label, name, value, names, none, errors, onChange }: {
  label: string;
  name: string;
  value: string;
  names: string[];
  none: string;
  errors: Record<string, string>;
  onChange: (v: string) => void;
}) {
  return (
    <label className={errors[name] ? "invalid" : undefined}>
      <span>{label}</span>
      <select name={name} value={value} aria-invalid={errors[name] ? true : undefined} onChange={(e) => onChange(e.target.value)}>
        <option value="">{none}</option>
        {(names.includes(value) || !value ? names : [value, ...names]).map((n) => (
          <option key={n} value={n}>{n}</option>
        ))}
      </select>
      <FieldError errors={errors} name={name} />
    </label>
  );
}

function ConfigUserFields({ form, set, errors, ctx }: FormProps<ConfigUserForm>) {
  const put = (patch: Partial<ConfigUserForm>) => set({ ...form, ...patch });
  return (
    <>
      <div className="form-grid">
        <Text label="Login" name="login" value={form.login} errors={errors} onChange={(login) => put({ login })} hint="a-z, 0-9, '.', '_', '-'" />
        <Text label="Display name" name="name" value={form.name} errors={errors} onChange={(name) => put({ name })} hint="blank: the login" />
        <Choice label="Team" name="team" value={form.team} names={ctx.teams} none="(the agent's team)" errors={errors} onChange={(team) => put({ team })} />
        <Choice label="Agent" name="agent" value={form.agent} names={ctx.agents} none="(none)" errors={errors} onChange={(agent) => put({ agent })} />
      </div>
      <fieldset className={errors.roles ? "roles invalid" : "roles"}>
        <legend>Roles</legend>
        {allRoles.map((r) => (
          <label key={r} className="check">
            <input
              type="checkbox"
              name={`role-${r}`}
              checked={form.roles.includes(r)}
              onChange={(e) => put({ roles: e.target.checked ? [...form.roles, r] : form.roles.filter((x) => x !== r) })}
            />{" "}
            {r}
          </label>
        ))}
        <FieldError errors={errors} name="roles" />
      </fieldset>
      <p className="muted">No password here: a configured user sets it through the Users tab or the API.</p>
    </>
  );
}

export function AdminConfigUsers({ readOnly }: { readOnly: boolean }) {
  const loaded = useConfig();
  return (
    <ItemsEditor
      spec={configUserSpec}
      title="Users in the configuration"
      loaded={loaded}
      readOnly={readOnly}
      Form={ConfigUserFields}
      columns={[
        { title: "Login", cell: (u) => str(u.login) },
        { title: "Name", cell: (u) => str(u.name ?? u.login) },
        { title: "Roles", cell: (u) => rolesText(u.roles) },
        { title: "Team", cell: (u) => str(u.team) },
        { title: "Agent", cell: (u) => str(u.agent) },
      ]}
    />
  );
}
