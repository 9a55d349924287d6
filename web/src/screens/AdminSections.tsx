// The structured editors of the Admin screen, one tab each: agents (team, skills with
// proficiency, capacity, routing profile), teams and skills, reason and disposition codes,
// opening hours and holidays, webhooks and retention. Each lists a section of the configuration
// document and edits one item in a form (AdminItems.tsx applies it).
import { useState } from "react";
import type { Fields } from "../admin/configDoc";
import {
  agentSpec,
  channels,
  checkRetention,
  dayNames,
  days,
  dispositionSpec,
  maxProficiency,
  reasonSpec,
  retentionFieldsOf,
  retentionFormOf,
  retentionKeys,
  scheduleSpec,
  skillSpec,
  teamSpec,
  webhookSpec,
  weekFrom,
  weeklyOf,
  type AgentForm,
  type EntitySpec,
  type Errors,
  type PairForm,
  type RetentionForm,
  type ScheduleForm,
  type WebhookForm,
} from "../admin/entities";
import { applyText, type Outcome } from "../admin/apply";
import { FieldError, ItemsEditor, OutcomeView, useConfig, type FormProps } from "./AdminItems";

const str = (v: unknown) => (v === undefined || v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));
const mapText = (v: unknown) =>
  v && typeof v === "object" && !Array.isArray(v) ? Object.entries(v as Fields).map(([k, n]) => `${k} ${str(n)}`).join(", ") : "";

export function Text({ label, name, value, onChange, errors, hint, list, type }: {
  label: string;
  name: string;
  value: string;
  onChange: (v: string) => void;
  errors: Errors;
  hint?: string;
  list?: string;
  type?: string;
}) {
  return (
    <label className={errors[name] ? "invalid" : undefined}>
      <span>{label}</span>
      <input name={name} type={type} value={value} list={list} aria-invalid={errors[name] ? true : undefined} onChange={(e) => onChange(e.target.value)} />
      {hint && <small className="muted">{hint}</small>}
      <FieldError errors={errors} name={name} />
    </label>
  );
}

// ---------------------------------------------------------------------------------------------
// Agents

function AgentFields({ form, set, errors, ctx }: FormProps<AgentForm>) {
  const put = (patch: Partial<AgentForm>) => set({ ...form, ...patch });
  return (
    <>
      <div className="form-grid">
        <Text label="Id" name="id" value={form.id} errors={errors} onChange={(id) => put({ id })} hint="used everywhere to refer to the agent" />
        <Text label="Display name" name="name" value={form.name} errors={errors} onChange={(name) => put({ name })} hint="blank: the id" />
        <label className={errors.team ? "invalid" : undefined}>
          <span>Team</span>
          <select name="team" value={form.team} onChange={(e) => put({ team: e.target.value })}>
            <option value="">(no team)</option>
            {(ctx.teams.includes(form.team) || !form.team ? ctx.teams : [form.team, ...ctx.teams]).map((t) => (
              <option key={t} value={t}>{t}</option>
            ))}
          </select>
          <FieldError errors={errors} name="team" />
        </label>
      </div>
      <fieldset className={errors.skills ? "invalid" : undefined} data-testid="agent-skills">
        <legend>Skills (proficiency 1 beginner to {maxProficiency} expert)</legend>
        <FieldError errors={errors} name="skills" />
        {form.skills.length === 0 && <p className="muted">No skills.</p>}
        {form.skills.map((s, i) => (
          <div className="row" key={i}>
            <select
              name={`skill-${i}`}
              aria-label={`Skill ${i + 1}`}
              value={s.skill}
              onChange={(e) => put({ skills: form.skills.map((x, j) => (j === i ? { ...x, skill: e.target.value } : x)) })}
            >
              <option value="">(choose)</option>
              {(ctx.skills.includes(s.skill) || !s.skill ? ctx.skills : [s.skill, ...ctx.skills]).map((k) => (
                <option key={k} value={k}>{k}</option>
              ))}
            </select>
            <input
              name={`level-${i}`}
              aria-label={`Proficiency in skill ${i + 1}`}
              type="number"
              min={1}
              max={maxProficiency}
              value={s.level}
              onChange={(e) => put({ skills: form.skills.map((x, j) => (j === i ? { ...x, level: e.target.value } : x)) })}
            />
            <button type="button" className="link" onClick={() => put({ skills: form.skills.filter((_, j) => j !== i) })}>
              Remove
            </button>
          </div>
        ))}
        <button type="button" onClick={() => put({ skills: [...form.skills, { skill: "", level: "3" }] })}>Add a skill</button>
      </fieldset>
      <fieldset className={errors.capacity ? "invalid" : undefined}>
        <legend>Capacity (contacts at once; blank = not taken)</legend>
        <FieldError errors={errors} name="capacity" />
        <div className="row">
          {channels.map((c) => (
            <label key={c} className="narrow">
              <span>{c}</span>
              <input
                name={`capacity-${c}`}
                type="number"
                min={0}
                max={50}
                value={form.capacity[c] ?? ""}
                onChange={(e) => put({ capacity: { ...form.capacity, [c]: e.target.value } })}
              />
            </label>
          ))}
        </div>
        <label className="check">
          <input
            type="checkbox"
            name="voice_blocks_other_channels"
            checked={form.voice_blocks_other_channels}
            onChange={(e) => put({ voice_blocks_other_channels: e.target.checked })}
          />
          A voice contact blocks other channels
        </label>
        <label className="check">
          <input
            type="checkbox"
            name="wrap_up_blocks_other_channels"
            checked={form.wrap_up_blocks_other_channels}
            onChange={(e) => put({ wrap_up_blocks_other_channels: e.target.checked })}
          />
          Wrap-up blocks new contacts
        </label>
      </fieldset>
      <fieldset className={errors.queues ? "invalid" : undefined}>
        <legend>Queues served, in order</legend>
        <FieldError errors={errors} name="queues" />
        {form.queues.length === 0 && <p className="muted">No queues (the queues' own members still apply).</p>}
        {form.queues.map((q, i) => {
          const setRow = (patch: Partial<typeof q>) => put({ queues: form.queues.map((x, j) => (j === i ? { ...x, ...patch } : x)) });
          return (
            <div className="row" key={i}>
              <select name={`queue-${i}`} aria-label={`Queue ${i + 1}`} value={q.queue} onChange={(e) => setRow({ queue: e.target.value })}>
                <option value="">(choose)</option>
                {(ctx.queues.includes(q.queue) || !q.queue ? ctx.queues : [q.queue, ...ctx.queues]).map((k) => (
                  <option key={k} value={k}>{k}</option>
                ))}
              </select>
              <input aria-label={`Order of queue ${i + 1}`} placeholder="order" value={q.order} onChange={(e) => setRow({ order: e.target.value })} />
              <input aria-label={`Delay of queue ${i + 1}`} placeholder="delay, e.g. 30s" value={q.delay} onChange={(e) => setRow({ delay: e.target.value })} />
              <button type="button" className="link" onClick={() => put({ queues: form.queues.filter((_, j) => j !== i) })}>
                Remove
              </button>
            </div>
          );
        })}
        <button type="button" onClick={() => put({ queues: [...form.queues, { queue: "", order: "", delay: "" }] })}>Add a queue</button>
      </fieldset>
    </>
  );
}

export function AdminAgents({ readOnly }: { readOnly: boolean }) {
  const loaded = useConfig();
  return (
    <ItemsEditor
      spec={agentSpec}
      title="Agents"
      loaded={loaded}
      readOnly={readOnly}
      Form={AgentFields}
      columns={[
        { title: "Id", cell: (a) => str(a.id) },
        { title: "Name", cell: (a) => str(a.name ?? a.id) },
        { title: "Team", cell: (a) => str(a.team) },
        { title: "Skills", cell: (a) => mapText(a.skills) },
        { title: "Queues", cell: (a) => (Array.isArray(a.queues) ? a.queues.map((q) => (q && typeof q === "object" ? str((q as Fields).queue) : str(q))).join(", ") : "") },
      ]}
    />
  );
}

// ---------------------------------------------------------------------------------------------
// Teams, skills, codes: a name and one text

function pairFields(idLabel: string, textLabel: string, textHint: string) {
  return function PairFields({ form, set, errors }: FormProps<PairForm>) {
    return (
      <div className="form-grid">
        <Text label={idLabel} name="id" value={form.id} errors={errors} onChange={(id) => set({ ...form, id })} />
        <Text label={textLabel} name="text" value={form.text} errors={errors} onChange={(text) => set({ ...form, text })} hint={textHint} />
      </div>
    );
  };
}

const TeamFields = pairFields("Name", "Lead", "an agent or user, optional");
const SkillFields = pairFields("Name", "Description", "optional, for people");
const CodeFields = pairFields("Code", "Label", "what the desktop shows; blank: the code");

function pairColumns(spec: EntitySpec<PairForm>, idTitle: string, textTitle: string, textKey: string) {
  return [
    { title: idTitle, cell: (i: Fields) => str(i[spec.idKey]) },
    { title: textTitle, cell: (i: Fields) => str(i[textKey]) },
  ];
}

export function AdminTeams({ readOnly }: { readOnly: boolean }) {
  const loaded = useConfig();
  return (
    <div className="columns">
      <ItemsEditor spec={teamSpec} title="Teams" loaded={loaded} readOnly={readOnly} Form={TeamFields} columns={pairColumns(teamSpec, "Name", "Lead", "lead")} />
      <ItemsEditor spec={skillSpec} title="Skills" loaded={loaded} readOnly={readOnly} Form={SkillFields} columns={pairColumns(skillSpec, "Name", "Description", "description")} />
    </div>
  );
}

export function AdminCodes({ readOnly }: { readOnly: boolean }) {
  const loaded = useConfig();
  return (
    <div className="columns">
      <ItemsEditor spec={reasonSpec} title="Not Ready reasons" loaded={loaded} readOnly={readOnly} Form={CodeFields} columns={pairColumns(reasonSpec, "Code", "Label", "label")} />
      <ItemsEditor spec={dispositionSpec} title="Wrap-up dispositions" loaded={loaded} readOnly={readOnly} Form={CodeFields} columns={pairColumns(dispositionSpec, "Code", "Label", "label")} />
    </div>
  );
}

// ---------------------------------------------------------------------------------------------
// Opening hours and holidays

const zones: string[] = (() => {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  try {
    return intl.supportedValuesOf?.("timeZone") ?? [];
  } catch {
    return [];
  }
})();

function ScheduleFields({ form, set, errors }: FormProps<ScheduleForm>) {
  const put = (patch: Partial<ScheduleForm>) => set({ ...form, ...patch });
  return (
    <>
      <div className="form-grid">
        <Text label="Name" name="name" value={form.name} errors={errors} onChange={(name) => put({ name })} hint="used by hours steps and open()" />
        <Text label="Time zone" name="time_zone" value={form.time_zone} errors={errors} list="time-zones" onChange={(time_zone) => put({ time_zone })} hint="e.g. Europe/Paris" />
        <datalist id="time-zones">
          {zones.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
      </div>
      <fieldset>
        <legend>Weekly hours: closed, or ranges such as 08:00-12:00, 14:00-18:00</legend>
        <div className="week">
          {days.map((d) => (
            <Text
              key={d}
              label={dayNames[d]}
              name={`week.${d}`}
              value={form.week[d] ?? ""}
              errors={errors}
              onChange={(v) => put({ week: { ...form.week, [d]: v } })}
            />
          ))}
        </div>
      </fieldset>
      <fieldset className={errors.exceptions ? "invalid" : undefined}>
        <legend>Holidays and other dated hours</legend>
        <FieldError errors={errors} name="exceptions" />
        {form.exceptions.length === 0 && <p className="muted">No exceptions.</p>}
        {form.exceptions.map((x, i) => {
          const setRow = (patch: Partial<typeof x>) => put({ exceptions: form.exceptions.map((y, j) => (j === i ? { ...y, ...patch } : y)) });
          return (
            <div className="row" key={i}>
              <input type="date" name={`exception-date-${i}`} aria-label={`Date ${i + 1}`} value={x.date} onChange={(e) => setRow({ date: e.target.value })} />
              <input name={`exception-name-${i}`} aria-label={`Name of date ${i + 1}`} placeholder="e.g. Christmas" value={x.name} onChange={(e) => setRow({ name: e.target.value })} />
              <input name={`exception-hours-${i}`} aria-label={`Hours of date ${i + 1}`} placeholder="closed" value={x.hours} onChange={(e) => setRow({ hours: e.target.value })} />
              <button type="button" className="link" onClick={() => put({ exceptions: form.exceptions.filter((_, j) => j !== i) })}>
                Remove
              </button>
            </div>
          );
        })}
        <button type="button" onClick={() => put({ exceptions: [...form.exceptions, { date: "", name: "", hours: "" }] })}>Add a date</button>
      </fieldset>
    </>
  );
}

export function AdminHours({ readOnly }: { readOnly: boolean }) {
  const loaded = useConfig();
  return (
    <ItemsEditor
      spec={scheduleSpec}
      title="Opening hours"
      loaded={loaded}
      readOnly={readOnly}
      Form={ScheduleFields}
      columns={[
        { title: "Name", cell: (s) => str(s.name) },
        { title: "Time zone", cell: (s) => str(s.time_zone) },
        { title: "Weekly", cell: (s) => Object.entries(weeklyOf(weekFrom(s.weekly))).map(([d, h]) => `${d} ${h}`).join("; ") },
        { title: "Exceptions", cell: (s) => (Array.isArray(s.exceptions) ? s.exceptions.map((x: Fields) => `${str(x.date)}${x.name ? ` ${str(x.name)}` : ""}`).join(", ") : "") },
      ]}
    />
  );
}

// ---------------------------------------------------------------------------------------------
// Webhooks and retention

function WebhookFields({ form, set, errors }: FormProps<WebhookForm>) {
  const put = (patch: Partial<WebhookForm>) => set({ ...form, ...patch });
  return (
    <div className="form-grid">
      <Text label="Name" name="name" value={form.name} errors={errors} onChange={(name) => put({ name })} />
      <Text label="URL" name="url" value={form.url} errors={errors} onChange={(url) => put({ url })} hint="http:// or https://" />
      <Text label="Event types" name="events" value={form.events} errors={errors} onChange={(events) => put({ events })} hint="e.g. contact.queued, wrap_up.ended; blank: every type" />
      <Text label="Secret environment variable" name="secret_env" value={form.secret_env} errors={errors} onChange={(secret_env) => put({ secret_env })} hint="holds the signing key; blank: unsigned" />
    </div>
  );
}

function Retention({ loaded, readOnly }: { loaded: ReturnType<typeof useConfig>; readOnly: boolean }) {
  const { config, reload } = loaded;
  const [form, setForm] = useState<RetentionForm | null>(null);
  const [errors, setErrors] = useState<Errors>({});
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  if (!config) return null;
  const read = retentionFormOf(config.text.section("retention"));
  const shown = form ?? read;
  const submit = async (dryRun: boolean) => {
    const e = checkRetention(shown);
    setErrors(e);
    setOutcome(null);
    if (Object.keys(e).length > 0) return;
    const edited = config.text.clone();
    edited.setMap("retention", retentionFieldsOf(read), retentionFieldsOf(shown));
    const r = await applyText(edited.toString(), config.version, dryRun, reload);
    setOutcome(r);
    if (r.kind === "applied") setForm(null);
  };
  const labels: Record<string, string> = {
    contacts: "Closed contacts",
    events: "Journal events",
    audit: "Audit log",
    recordings: "Recordings",
  };
  return (
    <form
      className="card item-form"
      aria-label="Retention"
      data-testid="retention"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void submit(false);
      }}
    >
      <h2>Retention</h2>
      <p className="muted">How long each kind of data is kept before the purge removes it; blank keeps it forever.</p>
      <fieldset disabled={readOnly} className="plain">
        <div className="form-grid">
          {retentionKeys.map((k) => (
            <Text key={k} label={labels[k]} name={k} value={shown[k]} errors={errors} hint="e.g. 90d" onChange={(v) => setForm({ ...shown, [k]: v })} />
          ))}
        </div>
      </fieldset>
      {!readOnly && (
        <div className="actions">
          <button type="submit">Save</button>
          <button type="button" onClick={() => void submit(true)}>Check</button>
          <button type="button" className="link" onClick={() => { setForm(null); setErrors({}); setOutcome(null); }}>Undo changes</button>
        </div>
      )}
      <OutcomeView outcome={outcome} testid="retention" />
    </form>
  );
}

export function AdminWebhooks({ readOnly }: { readOnly: boolean }) {
  const loaded = useConfig();
  return (
    <div className="columns">
      <ItemsEditor
        spec={webhookSpec}
        title="Webhooks"
        loaded={loaded}
        readOnly={readOnly}
        Form={WebhookFields}
        columns={[
          { title: "Name", cell: (w) => str(w.name) },
          { title: "URL", cell: (w) => str(w.url) },
          { title: "Events", cell: (w) => (Array.isArray(w.events) ? w.events.join(", ") : "every type") },
        ]}
      />
      <Retention loaded={loaded} readOnly={readOnly} />
    </div>
  );
}
