#pragma once
// How a journaled event is published: one JSON object with names, not indices (the event stream
// of the WebSocket API and webhooks; schema 1). Pure functions.

#include <string>

#include "base/time.h"
#include "domain/event.h"
#include "ports/store.h"

namespace parley::engine {

// The names an event's indices stand for, resolved by the engine at publication time.
struct EventNames {
  std::string agent;     // "" when none
  std::string team;      // the agent's team, "" when none
  std::string queue;     // "" when none
  std::string to_queue;  // kContactOverflowed: the queue it moved to
  std::string customer;  // kContactQueued: the contact's customer id, "" when none
};

// "2026-12-02T19:29:03.123456Z".
std::string FormatIsoUtc(TimePoint t);

// {"schema":1,"seq":..,"type":"contact_queued","time":"..","contact":7,"channel":"chat",
//  "queue":"sales","agent":"alice","team":"blue", ...} with only the fields the type uses, plus
// "customer" (on contact_queued, when known), "priority", "step", "to_queue", "presence", "reason",
// "flow" or "disposition" where they apply. Flow events (flow.step_entered, flow.step_exited,
// flow.ended, survey.answered) carry "flow", "version", "step", "step_type" and "exit",
// "outcome" or "question", "survey_kind", "score", "answer".
std::string RenderEventJson(const Event& event, ports::Sequence seq, const EventNames& names);

// {"schema":1,"seq":seq,"type":"reset","after":after,"reason":reason}: the events after `after`
// cannot be sent (purged from the journal, too many, or `after` is beyond the stream's end); the
// client re-reads the state it shows, and the stream continues live after `seq`.
std::string RenderResetJson(ports::Sequence after, ports::Sequence seq, const std::string& reason);

}  // namespace parley::engine
