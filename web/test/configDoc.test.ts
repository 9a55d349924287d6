import { afterEach, describe, expect, it, vi } from "vitest";
import { applyText } from "../src/admin/apply";
import { parse } from "yaml";
import { ConfigText } from "../src/admin/configDoc";
import {
  agentSpec,
  checkRetention,
  contextOf,
  formatHours,
  newFlowText,
  problemsIn,
  textLines,
  parseHours,
  reasonSpec,
  retentionFieldsOf,
  retentionFormOf,
  scheduleSpec,
  skillSpec,
  teamSpec,
  webhookSpec,
  weekFrom,
  weeklyOf,
  type EntitySpec,
} from "../src/admin/entities";

const source = `# The demo site.
site:
  name: Demo
  time_zone: Europe/Paris

skills:
  - english
  - {name: sales, description: Selling}

teams:
  - {name: north, lead: alice}

agents:
  # Alice leads north.
  - id: alice
    name: Alice Martin # display name
    team: north
    skills: {english: 5, sales: 3}
    capacity: {voice: 1, chat: 2}
    queues: [sales, {queue: support, order: 2, delay: 30s}]
  - id: bob
    skills: {english: 4}

queues:
  - name: sales # the main queue
    skills: {sales: 2}
  - name: support

schedules:
  - name: office
    time_zone: Europe/Paris
    weekly: {mon-fri: "08:00-19:00", sat: "09:00-12:00", sun: closed}
    exceptions:
      - {date: 2025-12-25, name: Christmas}

# Why an agent is Not Ready.
reason_codes:
  - {code: break, label: Break}
  - lunch
retention: {contacts: 400d, events: 90d}
`;

function load(text = source): ConfigText {
  const c = ConfigText.parse(text);
  if (!(c instanceof ConfigText)) throw new Error(c.error);
  return c;
}

/** Applies a form edit as the editors do: fields of the item as read, then of the form. */
function edit<F>(c: ConfigText, spec: EntitySpec<F>, id: string | null, change: (f: F) => F): string | null {
  const item = id === null ? null : c.items(spec.section, spec.idKey).find((i) => i[spec.idKey] === id)!;
  const before = item ? spec.fieldsOf(spec.formOf(item)) : {};
  const form = change(item ? spec.formOf(item) : spec.empty());
  return c.upsert(spec.section, spec.idKey, id, before, spec.fieldsOf(form));
}

describe("ConfigText", () => {
  it("adds an agent with skills and keeps comments and other sections as they were", () => {
    const c = load();
    const err = edit(c, agentSpec, null, (f) => ({
      ...f,
      id: "zoe",
      name: "Zoé Blanc",
      team: "north",
      skills: [{ skill: "sales", level: "4" }, { skill: "english", level: "2" }],
    }));
    expect(err).toBeNull();
    const out = c.toString();
    expect(out).toContain(
      "  - id: zoe\n    name: Zoé Blanc\n    team: north\n    skills: {sales: 4, english: 2}\n\nqueues:",
    );
    // Everything else is the same text: the new agent's lines are the only difference.
    expect(out.replace(/  - id: zoe\n(    .*\n)*/, "")).toBe(source);
    expect(parse(out).agents[2]).toEqual({ id: "zoe", name: "Zoé Blanc", team: "north", skills: {sales: 4, english: 2} });
  });

  it("changes only the fields that changed", () => {
    const c = load();
    expect(edit(c, agentSpec, "alice", (f) => ({ ...f, skills: [...f.skills, { skill: "english", level: "5" }].slice(1) }))).toBeNull();
    const out = c.toString();
    expect(out).toContain("    name: Alice Martin # display name\n");
    expect(out).toContain("    skills: {sales: 3, english: 5}\n");
    expect(out).toContain("    queues: [sales, {queue: support, order: 2, delay: 30s}]\n");
    expect(out).toContain("  # Alice leads north.\n  - id: alice\n");
  });

  it("keeps a document's text but for the spaces before a comment and flow collections over lines", () => {
    const text = "a:\n  b: 1      # one\n  c: {x: 1,\n      y: 2}\n";
    expect(load(text).toString()).toBe("a:\n  b: 1 # one\n  c: {x: 1, y: 2}\n");
  });

  it("writes scalars back as their text (a number-like address keeps its plus sign)", () => {
    const c = load("entry_points:\n  - {channel: voice, address: +33123456789, flow: main}\nagents:\n  - id: judy\n    voice_blocks_other_channels: no\n");
    expect(agentSpec.formOf(c.items("agents", "id")[0]).voice_blocks_other_channels).toBe(false);
    expect(edit(c, agentSpec, "judy", (f) => ({ ...f, capacity: { voice: "0", chat: "5" } }))).toBeNull();
    expect(c.toString()).toBe(
      "entry_points:\n  - {channel: voice, address: +33123456789, flow: main}\nagents:\n  - id: judy\n    voice_blocks_other_channels: no\n    capacity: {voice: 0, chat: 5}\n",
    );
  });

  it("leaves the document as it was when nothing changed", () => {
    const c = load();
    expect(edit(c, agentSpec, "alice", (f) => f)).toBeNull();
    expect(edit(c, reasonSpec, "lunch", (f) => f)).toBeNull();
    expect(c.toString()).toBe(source);
  });

  it("removes an agent and nothing else", () => {
    const c = load();
    expect(c.remove("agents", "id", "bob")).toBe(true);
    expect(c.remove("agents", "id", "nobody")).toBe(false);
    expect(c.toString()).toBe(source.replace("  - id: bob\n    skills: {english: 4}\n", ""));
  });

  it("refuses an id that another item has, on adding and on renaming", () => {
    const c = load();
    expect(edit(c, agentSpec, null, (f) => ({ ...f, id: "bob" }))).toBe("bob already exists in agents");
    expect(edit(c, agentSpec, "alice", (f) => ({ ...f, id: "bob" }))).toBe("bob already exists in agents");
    expect(edit(c, reasonSpec, null, (f) => ({ ...f, id: "lunch" }))).toBe("lunch already exists in reason_codes");
    expect(c.toString()).toBe(source);
    expect(edit(c, agentSpec, "alice", (f) => ({ ...f, id: "alicia" }))).toBeNull();
    expect(c.ids("agents", "id")).toEqual(["alicia", "bob"]);
    expect(agentSpec.check({ ...agentSpec.formOf({ id: "alice" }), id: "bob" }, contextOf(c.items.bind(c)), ["alice", "bob"]).id)
      .toBe("another agent is already called bob");
  });

  it("adds codes in the style of the list, bare codes gain a label as a map", () => {
    const c = load();
    expect(edit(c, reasonSpec, null, (f) => ({ ...f, id: "coffee", text: "Coffee break" }))).toBeNull();
    expect(edit(c, reasonSpec, "lunch", (f) => ({ ...f, text: "Lunch break" }))).toBeNull();
    expect(c.toString()).toContain("reason_codes:\n  - {code: break, label: Break}\n  - {code: lunch, label: Lunch break}\n  - {code: coffee, label: Coffee break}\n");
    // A label equal to the code says nothing: the code alone.
    expect(reasonSpec.fieldsOf({ original: null, id: "meeting", text: "meeting" })).toEqual({ code: "meeting", label: undefined });
    expect(reasonSpec.check({ original: null, id: "Coffee Break", text: "" }, contextOf(c.items.bind(c)), []).id).toMatch(/a-z, 0-9/);
  });

  it("carries a rename into the places that name the item", () => {
    const c = load(`teams:
  - {name: north, lead: alice}
agents:
  - {id: alice, team: north, skills: {english: 5, sales: 3}}
queues:
  - name: sales   # main
    teams: [north, south]
    members: [alice, bob]
    skills: {sales: 2}
    escalation:
      - {after: 30s, skills: {sales: 1}, teams: [north]}
users:
  - {login: alice, roles: [agent], agent: alice, team: north}
flows:
  - name: main
    steps:
      - {id: hours, type: hours, schedule: office}
`);
    expect(c.renameReferences("agents", "alice", "alicia")).toBe(3);
    expect(c.renameReferences("teams", "north", "nord")).toBe(4);
    expect(c.renameReferences("skills", "sales", "selling")).toBe(3);
    expect(c.renameReferences("schedules", "office", "hq")).toBe(1);
    expect(c.renameReferences("reason_codes", "lunch", "meal")).toBe(0);
    const doc = parse(c.toString());
    expect(doc.teams[0]).toEqual({ name: "north", lead: "alicia" });
    expect(doc.agents[0]).toEqual({ id: "alice", team: "nord", skills: { english: 5, selling: 3 } });
    expect(doc.queues[0]).toEqual({
      name: "sales",
      teams: ["nord", "south"],
      members: ["alicia", "bob"],
      skills: { selling: 2 },
      escalation: [{ after: "30s", skills: { selling: 1 }, teams: ["nord"] }],
    });
    expect(doc.users[0]).toEqual({ login: "alice", roles: ["agent"], agent: "alicia", team: "nord" });
    expect(doc.flows[0].steps[0].schedule).toBe("hq");
    expect(c.toString()).toContain("  - name: sales # main\n");
  });

  it("creates a missing section", () => {
    const c = load();
    expect(edit(c, dispositionOf(), null, (f) => ({ ...f, id: "sale", text: "Sale made" }))).toBeNull();
    expect(edit(c, webhookSpec, null, (f) => ({ ...f, name: "crm", url: "https://crm.example/hook", events: "contact.queued, wrap_up.ended", secret_env: "CRM_SECRET" }))).toBeNull();
    const doc = parse(c.toString());
    expect(doc.disposition_codes).toEqual([{ code: "sale", label: "Sale made" }]);
    expect(doc.webhooks).toEqual([{ name: "crm", url: "https://crm.example/hook", events: ["contact.queued", "wrap_up.ended"], secret_env: "CRM_SECRET" }]);
    expect(c.toString().startsWith(source)).toBe(true);
  });

  it("adds to a section written without a value, and refuses one that is not a list", () => {
    const c = load("webhooks:\nretention: 90d\n");
    expect(edit(c, webhookSpec, null, (f) => ({ ...f, name: "crm", url: "http://127.0.0.1:9/x" }))).toBeNull();
    expect(parse(c.toString()).webhooks).toEqual([{ name: "crm", url: "http://127.0.0.1:9/x" }]);
    const d = load("teams: north\n");
    expect(edit(d, teamSpec, null, (f) => ({ ...f, id: "south" }))).toMatch(/^teams is not a list/);
  });

  it("edits teams and skills, including bare skill names", () => {
    const c = load();
    expect(edit(c, skillSpec, "english", (f) => ({ ...f, text: "Spoken English" }))).toBeNull();
    expect(edit(c, teamSpec, "north", (f) => ({ ...f, text: "" }))).toBeNull();
    expect(edit(c, teamSpec, null, (f) => ({ ...f, id: "south", text: "grace" }))).toBeNull();
    const doc = parse(c.toString());
    expect(doc.skills).toEqual([{ name: "english", description: "Spoken English" }, { name: "sales", description: "Selling" }]);
    expect(doc.teams).toEqual([{ name: "north" }, { name: "south", lead: "grace" }]);
  });

  it("reports a syntax error with its line", () => {
    const r = ConfigText.parse("site:\n  name: [unclosed\n");
    expect(r).toHaveProperty("error");
    expect((r as { error: string }).error).toMatch(/^line \d+: /);
  });

  it("sets retention keys and removes the blank ones", () => {
    const c = load();
    const before = retentionFieldsOf(retentionFormOf(c.section("retention")));
    const form = { ...retentionFormOf(c.section("retention")), events: "", recordings: "30d" };
    expect(checkRetention(form)).toEqual({});
    c.setMap("retention", before, retentionFieldsOf(form));
    expect(c.toString()).toContain("retention: {contacts: 400d, recordings: 30d}\n");
    expect(checkRetention({ ...form, audit: "a year" }).audit).toMatch(/duration/);
  });
});

function dispositionOf() {
  return { ...reasonSpec, section: "disposition_codes", noun: "disposition code" };
}

describe("agent form checks", () => {
  const ctx = { skills: ["english", "sales"], teams: ["north"], queues: ["sales", "support"], agents: [] };
  const base = { ...agentSpec.empty(), id: "zoe" };
  it("accepts a complete agent", () => {
    expect(agentSpec.check({ ...base, team: "north", skills: [{ skill: "sales", level: "5" }], queues: [{ queue: "sales", order: "", delay: "30s" }] }, ctx, [])).toEqual({});
  });
  it("refuses obvious mistakes with their reason", () => {
    expect(agentSpec.check({ ...base, id: "" }, ctx, []).id).toBe("the agent needs a name");
    expect(agentSpec.check({ ...base, skills: [{ skill: "sales", level: "6" }] }, ctx, []).skills).toBe("the proficiency in sales is a whole number from 1 to 5");
    expect(agentSpec.check({ ...base, skills: [{ skill: "sales", level: "0" }] }, ctx, []).skills).toMatch(/1 to 5/);
    expect(agentSpec.check({ ...base, skills: [{ skill: "sales", level: "2" }, { skill: "sales", level: "3" }] }, ctx, []).skills).toBe("sales is listed twice");
    expect(agentSpec.check({ ...base, skills: [{ skill: "german", level: "2" }] }, ctx, []).skills).toBe("german is not a declared skill");
    expect(agentSpec.check({ ...base, capacity: { voice: "x" } }, ctx, []).capacity).toMatch(/0 to 50/);
    expect(agentSpec.check({ ...base, queues: [{ queue: "sales", order: "", delay: "soon" }] }, ctx, []).queues).toMatch(/duration/);
  });
  it("writes defaults as absent keys and queue rows as names or maps", () => {
    const f = agentSpec.fieldsOf({ ...base, name: "zoe", capacity: { voice: "1", chat: "" }, queues: [{ queue: "sales", order: "", delay: "" }, { queue: "support", order: "2", delay: "1m" }] });
    expect(f).toEqual({
      id: "zoe",
      name: undefined,
      team: undefined,
      skills: undefined,
      capacity: undefined,
      voice_blocks_other_channels: undefined,
      wrap_up_blocks_other_channels: undefined,
      queues: ["sales", { queue: "support", order: 2, delay: "1m" }],
    });
  });
});

describe("opening hours", () => {
  it("parses and formats hours", () => {
    expect(parseHours("closed")).toEqual([]);
    expect(parseHours("")).toEqual([]);
    expect(parseHours("8:00-12:00,14:00-18:30")).toEqual([{ from: 480, to: 720 }, { from: 840, to: 1110 }]);
    expect(formatHours(parseHours("8:00-12:00,14:00-24:00") as never)).toBe("08:00-12:00, 14:00-24:00");
    expect(formatHours([])).toBe("closed");
    expect(parseHours("12:00-08:00")).toBe('"12:00-08:00" ends before it starts');
    expect(parseHours("08:00-25:00")).toMatch(/not a range/);
    expect(parseHours("9 to 5")).toMatch(/not a range/);
    expect(parseHours("08:00-12:00, 11:00-13:00")).toMatch(/overlaps/);
  });

  it("expands day ranges and groups equal consecutive days", () => {
    const week = weekFrom({ "mon-fri": "08:00-19:00", sat: "09:00-12:00", sun: "closed" });
    expect(week.wed).toBe("08:00-19:00");
    expect(week.sun).toBe("closed");
    expect(weeklyOf(week)).toEqual({ "mon-fri": "08:00-19:00", sat: "09:00-12:00", sun: "closed" });
    expect(weeklyOf({ ...week, wed: "closed" })).toEqual({ "mon-tue": "08:00-19:00", wed: "closed", "thu-fri": "08:00-19:00", sat: "09:00-12:00", sun: "closed" });
    expect(weeklyOf(weekFrom({}))).toEqual({ "mon-sun": "closed" });
  });

  it("edits a schedule's days and holidays, keeping the rest", () => {
    const c = load();
    expect(edit(c, scheduleSpec, "office", (f) => f)).toBeNull();
    expect(c.toString()).toBe(source);
    expect(
      edit(c, scheduleSpec, "office", (f) => ({
        ...f,
        week: { ...f.week, sat: "closed" },
        exceptions: [...f.exceptions, { date: "2026-01-01", name: "New Year", hours: "" }, { date: "2025-12-31", name: "", hours: "8:00-12:00" }],
      })),
    ).toBeNull();
    const doc = parse(c.toString());
    expect(doc.schedules[0].weekly).toEqual({ "mon-fri": "08:00-19:00", "sat-sun": "closed" });
    expect(doc.schedules[0].exceptions).toEqual([
      { date: "2025-12-25", name: "Christmas" },
      { date: "2026-01-01", name: "New Year" },
      { date: "2025-12-31", hours: "08:00-12:00" },
    ]);
  });

  it("refuses bad days, dates and a missing time zone", () => {
    const f = { ...scheduleSpec.empty(), name: "x" };
    expect(scheduleSpec.check(f, { skills: [], teams: [], queues: [], agents: [] }, []).time_zone).toMatch(/tz database/);
    const bad = scheduleSpec.check({ ...f, time_zone: "UTC", week: { ...f.week, tue: "9-5" }, exceptions: [{ date: "2025-02-30", name: "", hours: "" }] }, { skills: [], teams: [], queues: [], agents: [] }, []);
    expect(bad["week.tue"]).toMatch(/not a range/);
    expect(bad.exceptions).toBe("date 1: a date such as 2025-12-25");
  });
});

describe("webhook form checks", () => {
  it("refuses a URL without a scheme and a bad environment variable", () => {
    const e = webhookSpec.check({ original: null, name: "crm", url: "crm.example", events: "contact.queued", secret_env: "1SECRET" }, { skills: [], teams: [], queues: [], agents: [] }, []);
    expect(e.url).toMatch(/http/);
    expect(e.secret_env).toMatch(/environment variable/);
  });
});

describe("applying an edited document", () => {
  const answer = (status: number, body: unknown) =>
    vi.fn(async () => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } }));
  afterEach(() => vi.unstubAllGlobals());

  it("sends the text with the version it was read at, as a dry run for a check", async () => {
    const fetch = answer(200, { version: 3, applied: false, dry_run: true, changes: [{ section: "agents", item: "zoe", change: "added" }] });
    vi.stubGlobal("fetch", fetch);
    const reload = vi.fn();
    expect(await applyText("agents: []\n", 3, true, reload)).toEqual({ kind: "checked", changes: [{ section: "agents", item: "zoe", change: "added" }] });
    expect(JSON.parse(String((fetch.mock.calls[0] as unknown as [string, RequestInit])[1].body))).toEqual({ yaml: "agents: []\n", version: 3, dry_run: true });
    expect(reload).not.toHaveBeenCalled();
  });

  it("reports the new version and reads the document again after saving", async () => {
    vi.stubGlobal("fetch", answer(200, { version: 4, applied: true, dry_run: false, changes: [{ section: "reason_codes", item: "coffee", change: "added" }] }));
    const reload = vi.fn();
    expect(await applyText("x: 1\n", 3, false, reload)).toEqual({ kind: "applied", text: "Saved as configuration version 4: + reason_codes coffee" });
    expect(reload).toHaveBeenCalledOnce();
  });

  it("keeps the problems of a refusal with the text they point into", async () => {
    const problems = [{ line: 2, column: 5, message: "unknown team 'south'" }];
    vi.stubGlobal("fetch", answer(422, { error: { code: "invalid_argument", message: "invalid configuration", problems } }));
    const reload = vi.fn();
    expect(await applyText("a: 1\nb: 2\n", 3, false, reload)).toEqual({ kind: "problems", problems, sent: "a: 1\nb: 2\n" });
    expect(reload).not.toHaveBeenCalled();
  });

  it("says someone else changed the configuration and reads it again on a 409", async () => {
    vi.stubGlobal("fetch", answer(409, { error: { code: "conflict", message: "configuration version 3 is not the current version 4" } }));
    const reload = vi.fn();
    const r = await applyText("a: 1\n", 3, false, reload);
    expect(r.kind).toBe("error");
    expect((r as { text: string }).text).toMatch(/^Someone else changed the configuration meanwhile \(configuration version 3 is not the current version 4\)/);
    expect(reload).toHaveBeenCalledOnce();
  });
});

describe("flows as text", () => {
  const flows = `site: {name: Demo}
flows:
  # The greeting.
  - name: main
    steps:
      - {id: hello, type: say, text: "Hi", next: bye}   # first
      - {id: bye, type: hangup}
  - name: voicemail
    steps:
      - {id: record, type: voicemail, mailbox: support}
`;
  it("gives one flow's text with its comments and puts an edited text back in its place", () => {
    const c = load(flows);
    const text = c.itemText("flows", "name", "main")!;
    expect(text).toBe('name: main\nsteps:\n  - {id: hello, type: say, text: "Hi", next: bye} # first\n  - {id: bye, type: hangup}\n');
    expect(c.replaceItem("flows", "name", "main", text.replace('"Hi"', '"Hello"'))).toBeNull();
    expect(c.toString()).toBe(flows.replace('"Hi", next: bye}   #', '"Hello", next: bye} #'));
    expect(c.itemLine("flows", "name", "main")).toBe(4);
    expect(c.itemLine("flows", "name", "voicemail")).toBe(8);
  });

  it("refuses a text that is not a flow, or takes another flow's name", () => {
    const c = load(flows);
    expect(c.replaceItem("flows", "name", "main", "name: [oops\n")).toMatch(/^line \d+: /);
    expect(c.replaceItem("flows", "name", "main", "- a\n- b\n")).toBe("the text is not a map with name");
    expect(c.replaceItem("flows", "name", "main", "steps: []\n")).toBe("the text needs a name");
    expect(c.replaceItem("flows", "name", "main", "name: voicemail\nsteps: []\n")).toBe("voicemail already exists in flows");
    expect(c.replaceItem("flows", "name", null, "name: main\nsteps: []\n")).toBe("main already exists in flows");
    expect(c.toString()).toBe(load(flows).toString());
    expect(c.replaceItem("flows", "name", null, newFlowText)).toBeNull();
    expect(parse(c.toString()).flows[2].name).toBe("new-flow");
  });

  it("places the server's problems in the flow's own lines", () => {
    const p = [
      { line: 5, column: 9, message: "unknown step type 'sya'" },
      { line: 1, column: 1, message: "elsewhere" },
    ];
    expect(textLines("name: main\nsteps:\n  - {id: a, type: hangup}\n\n")).toBe(3);
    expect(problemsIn([{ line: 7, column: 1, message: "next item" }], 4, 3)[0].inItem).toBe(false);
    expect(problemsIn(p, 4, 4)).toEqual([
      { line: 2, column: 9, message: "unknown step type 'sya'", inItem: true },
      { line: 1, column: 1, message: "elsewhere", inItem: false },
    ]);
  });
});
