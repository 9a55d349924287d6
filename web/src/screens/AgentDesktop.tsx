// The agent desktop: presence with time in state, click-to-dial, offers with a countdown and a
// chime, the active contact with the customer panel (screen-pop), wrap-up with disposition and timer, and
// today's count. The agent's own event stream triggers re-reads of GET /agents/{id}.
import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { api, ApiError } from "../api";
import { beep } from "../beep";
import { agentActivity, activityClass, activitySince, formatDuration, secondsLeft, secondsSince, titleCase } from "../format";
import { useCoalesced, useEventStream, useNow } from "../hooks";
import type { Agent, AgentContact, Code, Contact, Customer, Me } from "../types";
import {
  changesCallState,
  consultAfterEvent,
  consultEndedText,
  consultOfContact,
  consultRole,
  consultedText,
  hasCallControls,
} from "../callControl";
import { callbackNumber } from "../dial";
import { losesEvents } from "../monitor";
import { mayListen } from "../roles";
import { CallControls } from "./CallControls";
import { CodeInput } from "./CodeInput";
import { Dialer } from "./Dialer";
import { AgentToday } from "./ReportsToday";
import { StreamBadge } from "./StreamBadge";

interface CustomerView {
  customer: Customer;
  timeline: Contact[];
}

function message(e: unknown): string {
  return e instanceof ApiError ? e.message : "The server cannot be reached.";
}

export function AgentDesktop({ me }: { me: Me }) {
  const agentId = me.agent as string;
  const [agent, setAgent] = useState<Agent | null>(null);
  const [contacts, setContacts] = useState<Record<string, Contact>>({});
  const [customers, setCustomers] = useState<Record<string, CustomerView>>({});
  const [error, setError] = useState("");
  const offersSeen = useRef(new Set<string>());
  const now = useNow();

  const refresh = useCoalesced(async () => {
    try {
      setAgent(await api.agent(agentId));
    } catch (e) {
      setError(message(e));
    }
  }, 150);
  useEffect(refresh, [refresh]);
  const reloadContact = useCallback(
    (id: string) =>
      api
        .contact(id)
        .then((full) => setContacts((all) => ({ ...all, [id]: full })))
        .catch((e) => setError(message(e))),
    [],
  );
  // Why each contact's last consultation ended (the other agent hanging up, not answering...).
  const [consultNotices, setConsultNotices] = useState<Record<string, string>>({});
  const agentNow = useRef(agent);
  agentNow.current = agent;
  const stream = useEventStream((e) => {
    refresh();
    // Events were lost: the agent is re-read above, and so is each of its contacts (call state,
    // consultation), which no longer follow from the events.
    if (losesEvents(e.type)) {
      for (const c of agentNow.current?.contacts ?? []) reloadContact(c.contact);
      return;
    }
    const id = e.contact;
    if (!id) return;
    // Consultations follow their events at once (then the re-read below confirms).
    if (e.type.startsWith("consult.") || e.type.startsWith("conference.") || e.type === "contact.transferred") {
      setContacts((all) =>
        all[id] ? { ...all, [id]: { ...all[id], consult: consultAfterEvent(consultOfContact(all[id]), e) } } : all,
      );
      const why = consultEndedText(e);
      setConsultNotices((all) => ({ ...all, [id]: why }));
    }
    // Hold, mute, recording and consultation changes (from the phone, a supervisor, the policy,
    // the other agent) are re-read.
    if (changesCallState(e.type)) reloadContact(id);
  }, refresh);

  // The queues a call may be transferred to (those taking voice), and each queue's recording
  // policy (a `never` queue offers no Start recording).
  const [voiceQueues, setVoiceQueues] = useState<string[]>([]);
  const [recordingPolicies, setRecordingPolicies] = useState<Record<string, string>>({});
  useEffect(() => {
    if (!me.permissions["queues.read"]) return;
    api
      .queues()
      .then((qs) => {
        setVoiceQueues(qs.filter((q) => q.channels.includes("voice")).map((q) => q.name));
        setRecordingPolicies(Object.fromEntries(qs.filter((q) => q.recording).map((q) => [q.name, q.recording as string])));
      })
      .catch((e) => setError(message(e)));
  }, [me]);

  // Screen-pop: read each new contact, then its customer with notes and timeline.
  const loadCustomer = useCallback(async (id: string) => {
    const [customer, timeline] = await Promise.all([api.customer(id), api.timeline(id)]);
    setCustomers((all) => ({ ...all, [id]: { customer, timeline } }));
  }, []);
  useEffect(() => {
    for (const c of agent?.contacts ?? []) {
      if (contacts[c.contact]) continue;
      setContacts((all) => ({ ...all, [c.contact]: all[c.contact] ?? ({ id: c.contact } as Contact) }));
      api
        .contact(c.contact)
        .then((full) => {
          setContacts((all) => ({ ...all, [c.contact]: full }));
          if (full.customer) return loadCustomer(full.customer);
        })
        .catch((e) => setError(message(e)));
    }
    for (const c of agent?.contacts ?? []) {
      if (c.state === "offered" && !offersSeen.current.has(c.contact)) {
        offersSeen.current.add(c.contact);
        beep();
      }
    }
  }, [agent, contacts, loadCustomer]);

  const act = async (what: () => Promise<unknown>) => {
    setError("");
    try {
      await what();
    } catch (e) {
      setError(message(e));
    }
    refresh();
  };

  if (!agent) {
    return (
      <section className="desktop" aria-busy="true">
        {error ? <p className="error" role="alert">{error}</p> : <p>Loading…</p>}
      </section>
    );
  }

  const offered = agent.contacts.filter((c) => c.state === "offered");
  const active = agent.contacts.filter((c) => c.state === "handling");
  const wrapping = agent.contacts.filter((c) => c.state === "wrap-up");
  const activity = agentActivity(agent);

  return (
    <section className="desktop" aria-label="Agent desktop">
      <div className="card presence-bar">
        <div className="presence-now">
          <span className={`state-dot ${activityClass(activity)}`} aria-hidden="true" />
          <div>
            <div className="presence-label" data-testid="presence">
              {activity}
            </div>
            <div className="muted">
              in state for{" "}
              <time data-testid="time-in-state">{formatDuration(secondsSince(activitySince(agent), now))}</time>
            </div>
          </div>
        </div>
        <PresenceControls
          agent={agent}
          reasons={me.reason_codes}
          onChange={(presence, reason) => act(() => api.setPresence(agentId, presence, reason))}
        />
        <div className="today">
          <div className="big" data-testid="handled-today">
            {agent.handled_today}
          </div>
          <div className="muted">handled today</div>
        </div>
        {me.permissions["reports.read"] && <AgentToday agent={agentId} version={agent.handled_today} />}
        <StreamBadge status={stream} />
      </div>

      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}

      <Dialer
        queues={voiceQueues}
        callbacks={active
          .map((c) => ({ contact: c.contact, number: callbackNumber(contacts[c.contact]), queue: c.queue }))
          .filter((cb) => cb.number)}
        onPlaced={refresh}
      />

      {offered.map((c) => (
        <OfferCard
          key={c.contact}
          offer={c}
          contact={contacts[c.contact]}
          customer={customers[contacts[c.contact]?.customer ?? ""]?.customer}
          now={now}
          onAccept={() =>
            act(async () => {
              await api.accept(c.contact);
              // The timeline now shows this contact as handled, not offered.
              const customer = contacts[c.contact]?.customer;
              if (customer) await loadCustomer(customer);
            })
          }
          onReject={() => act(() => api.reject(c.contact))}
        />
      ))}

      {active.map((c) => (
        <article key={c.contact} className="card contact" aria-label={`Contact ${c.contact}`} data-testid="active-contact">
          <ContactHeader c={c} contact={contacts[c.contact]} now={now} what="handling" />
          <Attributes contact={contacts[c.contact]} />
          <CustomerPanel
            view={customers[contacts[c.contact]?.customer ?? ""]}
            onNote={async (text) => {
              const id = contacts[c.contact]?.customer;
              if (!id) return;
              await act(() => api.addNote(id, text));
              await loadCustomer(id).catch((e) => setError(message(e)));
            }}
          />
          {hasCallControls(c.channel, c.state) && consultRole(contacts[c.contact], agentId) === "consulted" && (
            <p className="call-controls muted" data-testid="consulted">
              {consultedText(contacts[c.contact])}
            </p>
          )}
          {hasCallControls(c.channel, c.state) && consultRole(contacts[c.contact], agentId) === "handler" && (
            <CallControls
              id={c.contact}
              contact={contacts[c.contact]}
              queues={voiceQueues}
              recordingPolicy={recordingPolicies[c.queue]}
              agentId={agentId}
              notice={consultNotices[c.contact]}
              onReply={(full) => {
                setConsultNotices((all) => ({ ...all, [c.contact]: "" }));
                if (full) setContacts((all) => ({ ...all, [c.contact]: full }));
                refresh();
              }}
            />
          )}
          <div className="actions">
            {/* The consulted agent leaves by hanging up the phone; the handling agent ends the contact. */}
            {consultRole(contacts[c.contact], agentId) === "handler" && (
              <button type="button" className="danger" onClick={() => act(() => api.end(c.contact))}>
                End
              </button>
            )}
            {mayListen(me) && (contacts[c.contact]?.recordings?.length ?? 0) > 0 && (
              <a href={`#/recordings?contact=${c.contact}`}>Recordings of this contact</a>
            )}
          </div>
        </article>
      ))}

      {wrapping.map((c) => (
        <WrapUpCard
          key={c.contact}
          c={c}
          contact={contacts[c.contact]}
          dispositions={me.disposition_codes}
          now={now}
          onFinish={(disposition, notes) => act(() => api.wrapUp(c.contact, disposition, notes))}
        />
      ))}

      {agent.contacts.length === 0 && (
        <p className="empty" data-testid="idle">
          {agent.presence === "available"
            ? "Waiting for the next contact…"
            : "Go Available to receive contacts."}
        </p>
      )}
    </section>
  );
}

function PresenceControls({
  agent,
  reasons,
  onChange,
}: {
  agent: Agent;
  reasons?: Code[];
  onChange: (presence: string, reason?: string) => void;
}) {
  const [reason, setReason] = useState(agent.reason || reasons?.[0]?.code || "");
  return (
    <form
      className="presence-controls"
      aria-label="Presence"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        onChange("not-ready", reason);
      }}
    >
      <button
        type="button"
        className={agent.presence === "available" ? "selected ok" : ""}
        aria-pressed={agent.presence === "available"}
        onClick={() => onChange("available")}
      >
        Available
      </button>
      <span className="group">
        <button type="submit" className={agent.presence === "not-ready" ? "selected warn" : ""} aria-pressed={agent.presence === "not-ready"}>
          Not Ready
        </button>
        <CodeInput label="Reason" codes={reasons} value={reason} onChange={setReason} name="reason" />
      </span>
      <button
        type="button"
        className={agent.presence === "offline" ? "selected" : ""}
        aria-pressed={agent.presence === "offline"}
        onClick={() => onChange("offline")}
      >
        Offline
      </button>
    </form>
  );
}

function ContactHeader({
  c,
  contact,
  now,
  what,
}: {
  c: AgentContact;
  contact?: Contact;
  now: number;
  what: string;
}) {
  return (
    <header className="contact-head">
      <span className={`channel ${c.channel}`}>{titleCase(c.channel)}</span>
      <span>
        queue <strong>{c.queue}</strong>
      </span>
      <span className="muted">#{c.contact}</span>
      {contact?.direction && <span className="muted">{contact.direction}</span>}
      <span className="timer" aria-label={`${what} time`}>
        {formatDuration(secondsSince(c.since, now))}
      </span>
    </header>
  );
}

function Attributes({ contact }: { contact?: Contact }) {
  const entries = Object.entries(contact?.attributes ?? {});
  if (entries.length === 0) return null;
  return (
    <dl className="attributes" aria-label="Collected data">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

function OfferCard({
  offer,
  contact,
  customer,
  now,
  onAccept,
  onReject,
}: {
  offer: AgentContact;
  contact?: Contact;
  customer?: Customer;
  now: number;
  onAccept: () => void;
  onReject: () => void;
}) {
  const left = secondsLeft(offer.offer_expires, now);
  // Keyboard first: Enter or Space accepts, unless the agent is typing somewhere else.
  const accept = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const active = document.activeElement;
    const typing = active instanceof HTMLInputElement || active instanceof HTMLTextAreaElement || active instanceof HTMLSelectElement;
    if (!typing) accept.current?.focus();
  }, []);
  return (
    <article className="card offer" role="alertdialog" aria-label={`Incoming ${offer.channel} contact`} data-testid="offer">
      <header className="contact-head">
        <span className={`channel ${offer.channel}`}>{titleCase(offer.channel)}</span>
        <span>
          queue <strong>{offer.queue}</strong>
        </span>
        <span className="customer-name">{customer?.name ?? (contact?.customer ? "…" : "Unknown customer")}</span>
        {left !== null && (
          <span className={`countdown ${left <= 5 ? "alert" : ""}`} aria-label="Time left to answer" data-testid="countdown">
            {left}s
          </span>
        )}
      </header>
      <Attributes contact={contact} />
      <div className="actions">
        <button type="button" className="primary" onClick={onAccept} ref={accept}>
          Accept
        </button>
        <button type="button" onClick={onReject}>
          Reject
        </button>
      </div>
    </article>
  );
}

function CustomerPanel({ view, onNote }: { view?: CustomerView; onNote: (text: string) => Promise<void> }) {
  const [note, setNote] = useState("");
  if (!view) return <p className="muted">No customer record for this contact.</p>;
  const { customer, timeline } = view;
  const fields = Object.entries(customer.fields ?? {});
  return (
    <section className="customer" aria-label="Customer" data-testid="customer">
      <h2>{customer.name}</h2>
      <ul className="identities">
        {customer.identities.map((i) => (
          <li key={`${i.channel}:${i.address}`}>
            <span className="muted">{i.channel}</span> {i.address}
          </li>
        ))}
        {customer.tags.map((t) => (
          <li key={`tag:${t}`} className="tag">
            {t}
          </li>
        ))}
      </ul>
      {fields.length > 0 && (
        <dl className="attributes">
          {fields.map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{typeof v === "string" ? v : JSON.stringify(v)}</dd>
            </div>
          ))}
        </dl>
      )}
      <div className="columns">
        <div>
          <h3>Notes</h3>
          <ul className="notes">
            {(customer.notes ?? []).map((n) => (
              <li key={n.id}>
                <span className="muted">
                  {new Date(n.at).toLocaleString()} · {n.author}
                </span>
                <br />
                {n.text}
              </li>
            ))}
          </ul>
          <form
            className="inline"
            onSubmit={async (e) => {
              e.preventDefault();
              if (!note.trim()) return;
              await onNote(note.trim());
              setNote("");
            }}
          >
            <label className="sr-only" htmlFor="new-note">
              New note
            </label>
            <input id="new-note" placeholder="Add a note" value={note} onChange={(e) => setNote(e.target.value)} />
            <button type="submit">Add</button>
          </form>
        </div>
        <div>
          <h3>Timeline</h3>
          <ol className="timeline" data-testid="timeline">
            {timeline.map((t) => (
              <li key={t.id}>
                <span className={`channel ${t.channel}`}>{titleCase(t.channel)}</span> {t.queue} ·{" "}
                {t.times?.arrived ? new Date(t.times.arrived).toLocaleString() : "?"} · {t.state}
                {t.disposition ? ` · ${t.disposition}` : ""}
              </li>
            ))}
          </ol>
        </div>
      </div>
    </section>
  );
}

function WrapUpCard({
  c,
  contact,
  dispositions,
  now,
  onFinish,
}: {
  c: AgentContact;
  contact?: Contact;
  dispositions?: Code[];
  now: number;
  onFinish: (disposition: string, notes: string) => void;
}) {
  const [disposition, setDisposition] = useState(dispositions?.[0]?.code ?? "");
  const [notes, setNotes] = useState("");
  return (
    <form
      className="card contact wrap-up"
      aria-label={`Wrap-up of contact ${c.contact}`}
      data-testid="wrap-up"
      onSubmit={(e) => {
        e.preventDefault();
        onFinish(disposition.trim(), notes);
      }}
    >
      <ContactHeader c={c} contact={contact} now={now} what="wrap-up" />
      <p className="muted">Wrap-up: choose how the contact ended, then finish (you can finish before the timer ends).</p>
      <CodeInput label="Disposition" codes={dispositions} value={disposition} onChange={setDisposition} name="disposition" />
      <label>
        Notes
        <textarea name="notes" rows={3} value={notes} onChange={(e) => setNotes(e.target.value)} />
      </label>
      <div className="actions">
        <button type="submit" className="primary">
          Finish wrap-up
        </button>
      </div>
    </form>
  );
}
