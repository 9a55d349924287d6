// The structured editors' edits of the configuration document (GET /api/v1/config's YAML),
// through the `yaml` package's Document API so that everything an edit does not touch keeps its
// text: comments, key order, flow or block style, other sections (ConfigText.toString says what
// a rewrite normalises). Unit-tested in test/configDoc.test.ts.
//
// A section is a list of items (agents, teams, reason_codes, ...), each a map with an id key
// (`id`, `name` or `code`) or, where the configuration allows it, the bare id (`- lunch`). An edit
// gives the item's fields as plain values (undefined = the key is absent); only the fields whose
// value differs from the item as read are written, so an unchanged field keeps its text.
import { Document, isCollection, isMap, isScalar, isSeq, parseDocument, type Node, YAMLMap, YAMLSeq } from "yaml";

export type Fields = Record<string, unknown>;

/** One parsed configuration document, changed in place by its methods (editors change a clone()). */
export class ConfigText {
  private constructor(readonly doc: Document) {}

  /** The document, or the first syntax error with its line ("line 3: ..."). */
  static parse(text: string): ConfigText | { error: string } {
    // The failsafe schema reads every scalar as its text, as the server's parser does (it
    // converts a value only where a number is expected): `+33123456789` stays that text and is
    // written back as it was, never as the number 33123456789.
    const doc = parseDocument(text, { schema: "failsafe" });
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      const line = e.linePos?.[0]?.line;
      return { error: `${line ? `line ${line}: ` : ""}${e.message.split("\n")[0]}` };
    }
    if (doc.contents !== null && !isMap(doc.contents)) return { error: "the configuration is not a map of sections" };
    return new ConfigText(doc);
  }

  /**
   * The document's text. Lines an edit did not touch keep their text, but for the spaces before a
   * trailing comment (one) and flow collections written over several lines (joined on one).
   */
  toString(): string {
    return this.doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  }

  /** A copy to edit (the editors never change the document they display). */
  clone(): ConfigText {
    return new ConfigText(this.doc.clone());
  }

  private root(): YAMLMap {
    if (this.doc.contents === null) this.doc.contents = this.doc.createNode({}) as unknown as typeof this.doc.contents;
    return this.doc.contents as unknown as YAMLMap;
  }

  private seq(section: string): YAMLSeq | null {
    const s = this.root().get(section, true);
    return isSeq(s) ? s : null;
  }

  /** A top-level value as plain data (undefined when absent). */
  section(name: string): unknown {
    const n = this.root().get(name, true);
    return n === undefined ? undefined : isCollection(n) || isScalar(n) ? n.toJSON() : n;
  }

  /** The items of a list section as plain data; a bare id is `{[idKey]: id}`. */
  items(section: string, idKey: string): Fields[] {
    const s = this.seq(section);
    if (!s) return [];
    return s.items.map((n) => {
      if (isScalar(n)) return { [idKey]: String(n.value) };
      const v = isMap(n) ? n.toJSON() : {};
      return v && typeof v === "object" ? (v as Fields) : {};
    });
  }

  /** The ids of a list section's items, in order. */
  ids(section: string, idKey: string): string[] {
    return this.items(section, idKey).map((i) => String(i[idKey] ?? ""));
  }

  private indexOf(section: string, idKey: string, id: string): number {
    return this.ids(section, idKey).indexOf(id);
  }

  /**
   * Adds (`originalId` null) or changes the item: writes the fields of `fields` that differ from
   * `before` (the item's fields as the form read them). A new or changed id that another item
   * already has is refused, as is changing an item that is no longer there.
   */
  upsert(section: string, idKey: string, originalId: string | null, before: Fields, fields: Fields): string | null {
    const id = String(fields[idKey] ?? "");
    const clash = this.indexOf(section, idKey, id);
    if (clash >= 0 && (originalId === null || originalId !== id)) return `${id} already exists in ${section}`;
    if (originalId === null) return this.add(section, fields);
    const s = this.seq(section);
    const at = this.indexOf(section, idKey, originalId);
    if (!s || at < 0) return `${originalId} is no longer in ${section}`;
    const node = s.items[at];
    const present = Object.entries(fields).filter(([, v]) => v !== undefined);
    if (isScalar(node)) {
      if (present.length === 1 && present[0][0] === idKey) {
        node.value = textual(id);
        return null;
      }
      // A bare id that gains fields becomes a map in flow style, as bare ids sit in short lists.
      const map = this.node(Object.fromEntries(present), true);
      map.commentBefore = node.commentBefore;
      map.comment = node.comment;
      s.items[at] = map;
      return null;
    }
    if (!isMap(node)) return `item ${at + 1} of ${section} is not a map`;
    for (const [key, value] of Object.entries(fields)) {
      if (same(value, before[key])) continue;
      if (value === undefined) {
        node.delete(key);
        continue;
      }
      const old = node.get(key, true);
      if (isScalar(old) && (value === null || typeof value !== "object")) {
        old.value = textual(value);
        continue;
      }
      // A replaced collection keeps its style; a new one is written in flow style (`{english: 5}`).
      node.set(key, this.node(value, isCollection(old) ? Boolean(old.flow) : true));
    }
    return null;
  }

  /** Appends an item in the style of the section's last item (flow map or block map). */
  private add(section: string, fields: Fields): string | null {
    const present = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
    let s = this.seq(section);
    if (!s) {
      // An absent section, or one written with no value (`webhooks:`), becomes a list.
      const existing = this.root().get(section, true);
      const empty = existing === undefined || (isScalar(existing) && (existing.value === null || existing.value === ""));
      if (!empty) return `${section} is not a list in the configuration: change it in the Configuration tab`;
      s = new YAMLSeq();
      this.root().set(section, s);
    }
    const last = s.items[s.items.length - 1];
    const flowItem = s.flow || isScalar(last) || (isMap(last) && Boolean(last.flow));
    s.items.push(this.node(present, flowItem) as never);
    return null;
  }

  /** A new node; collections nested in a block map are written in flow style (`{english: 5}`). */
  private node(value: unknown, flow: boolean): Node {
    const n = this.doc.createNode(textual(value), { flow }) as Node;
    if (!flow && isMap(n)) {
      for (const p of n.items) if (isCollection(p.value)) p.value.flow = true;
    }
    return n;
  }

  /**
   * Carries a renamed agent, team, skill or schedule into the places that name it (docs/
   * configuration.md): queues' members, users' agent and teams' leads; agents', users' and queues'
   * teams (escalation steps too); agents' and queues' skills; flows' hours steps. Returns how many
   * references changed.
   */
  renameReferences(section: string, from: string, to: string): number {
    let count = 0;
    const maps = (n: unknown): YAMLMap[] => (isSeq(n) ? n.items.filter((i): i is YAMLMap => isMap(i)) : []);
    const each = (sec: string) => maps(this.root().get(sec, true));
    const value = (map: YAMLMap, key: string) => {
      const n = map.get(key, true);
      if (isScalar(n) && String(n.value) === from) {
        n.value = to;
        count++;
      }
    };
    const inList = (map: YAMLMap, key: string) => {
      const n = map.get(key, true);
      if (!isSeq(n)) return;
      for (const i of n.items) {
        if (isScalar(i) && String(i.value) === from) {
          i.value = to;
          count++;
        }
      }
    };
    const asKey = (map: YAMLMap, key: string) => {
      const n = map.get(key, true);
      if (!isMap(n)) return;
      for (const p of n.items) {
        if (isScalar(p.key) && String(p.key.value) === from) {
          p.key.value = to;
          count++;
        }
      }
    };
    const queuesAndSteps = (fn: (m: YAMLMap) => void) => {
      for (const q of each("queues")) {
        fn(q);
        maps(q.get("escalation", true)).forEach(fn);
      }
    };
    if (section === "agents") {
      each("queues").forEach((q) => inList(q, "members"));
      each("users").forEach((u) => value(u, "agent"));
      each("teams").forEach((t) => value(t, "lead"));
    } else if (section === "teams") {
      each("agents").forEach((a) => value(a, "team"));
      each("users").forEach((u) => value(u, "team"));
      queuesAndSteps((m) => inList(m, "teams"));
    } else if (section === "skills") {
      each("agents").forEach((a) => asKey(a, "skills"));
      queuesAndSteps((m) => asKey(m, "skills"));
    } else if (section === "users") {
      // A team's lead is an agent or a user (docs/configuration.md, "teams[]").
      each("teams").forEach((t) => value(t, "lead"));
    } else if (section === "schedules") {
      for (const f of each("flows")) maps(f.get("steps", true)).forEach((st) => value(st, "schedule"));
    }
    return count;
  }

  /** The item as a YAML text of its own (a flow's name, steps, ...), comments kept; null when absent. */
  itemText(section: string, idKey: string, id: string): string | null {
    const s = this.seq(section);
    const at = this.indexOf(section, idKey, id);
    if (!s || at < 0) return null;
    const d = new Document(null, { schema: "failsafe" });
    d.contents = (s.items[at] as Node).clone() as typeof d.contents;
    return d.toString({ lineWidth: 0, flowCollectionPadding: false });
  }

  /**
   * Puts the map written in `text` in place of the item `originalId` (or appends it when null);
   * an error text when the text is not YAML, not a map with `idKey`, or its id is another item's.
   */
  replaceItem(section: string, idKey: string, originalId: string | null, text: string): string | null {
    const parsed = parseDocument(text, { schema: "failsafe" });
    if (parsed.errors.length > 0) {
      const e = parsed.errors[0];
      const line = e.linePos?.[0]?.line;
      return `${line ? `line ${line}: ` : ""}${e.message.split("\n")[0]}`;
    }
    const node = parsed.contents;
    if (!isMap(node)) return `the text is not a map with ${idKey}`;
    const idNode = node.get(idKey, true);
    const id = isScalar(idNode) ? String(idNode.value ?? "").trim() : "";
    if (id === "") return `the text needs a ${idKey}`;
    const clash = this.indexOf(section, idKey, id);
    if (clash >= 0 && originalId !== id) return `${id} already exists in ${section}`;
    let s = this.seq(section);
    if (originalId === null) {
      if (!s) {
        s = new YAMLSeq();
        this.root().set(section, s);
      }
      s.items.push(node as never);
      return null;
    }
    const at = this.indexOf(section, idKey, originalId);
    if (!s || at < 0) return `${originalId} is no longer in ${section}`;
    node.commentBefore = (s.items[at] as Node).commentBefore;
    s.items[at] = node as never;
    return null;
  }

  /** The 1-based line of this document's text (toString()) where the item starts; 0 when absent. */
  itemLine(section: string, idKey: string, id: string): number {
    const text = this.toString();
    const again = ConfigText.parse(text);
    if (!(again instanceof ConfigText)) return 0;
    const s = again.seq(section);
    const at = again.indexOf(section, idKey, id);
    const start = s && at >= 0 ? (s.items[at] as Node).range?.[0] : undefined;
    return start === undefined ? 0 : text.slice(0, start).split("\n").length;
  }

  /** Removes the item; false when it is not there. */
  remove(section: string, idKey: string, id: string): boolean {
    const s = this.seq(section);
    const at = this.indexOf(section, idKey, id);
    if (!s || at < 0) return false;
    s.items.splice(at, 1);
    return true;
  }

  /** Sets a map section's keys (undefined removes one), creating the section when absent. */
  setMap(section: string, before: Fields, fields: Fields) {
    const found = this.root().get(section, true);
    let map: YAMLMap;
    if (isMap(found)) {
      map = found;
    } else {
      map = new YAMLMap();
      this.root().set(section, map);
    }
    for (const [key, value] of Object.entries(fields)) {
      if (same(value, before[key])) continue;
      if (value === undefined) map.delete(key);
      else map.set(key, this.node(value, true));
    }
  }
}

/** Plain data with every number and boolean as its text (the failsafe schema has only strings). */
function textual(value: unknown): unknown {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map(textual);
  if (typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, textual(v)]));
  return String(value);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
