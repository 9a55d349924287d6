#include "api/views.h"

#include <date/date.h>

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "api/recordings.h"

namespace parley::api {

using Json = nlohmann::json;

std::string TimeText(TimePoint t) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<date::days>(ms);
  const date::year_month_day ymd(day);
  const int year = static_cast<int>(ymd.year());
  // date::format builds a stream and imbues a locale for every call, which cost more than the
  // rest of an agent read; four-digit years (all we meet) are written directly instead.
  if (year < 0 || year > 9999) return date::format("%FT%TZ", ms);
  const date::hh_mm_ss<milliseconds> tod(ms - day);
  std::string out = "0000-00-00T00:00:00.000Z";
  auto put = [&out](size_t at, unsigned value, size_t digits) {
    for (size_t i = digits; i-- > 0; value /= 10) out[at + i] = static_cast<char>('0' + value % 10);
  };
  put(0, static_cast<unsigned>(year), 4);
  put(5, static_cast<unsigned>(ymd.month()), 2);
  put(8, static_cast<unsigned>(ymd.day()), 2);
  put(11, static_cast<unsigned>(tod.hours().count()), 2);
  put(14, static_cast<unsigned>(tod.minutes().count()), 2);
  put(17, static_cast<unsigned>(tod.seconds().count()), 2);
  put(20, static_cast<unsigned>(tod.subseconds().count()), 3);
  return out;
}

Json TimeJson(TimePoint t) {
  if (t == TimePoint{}) return nullptr;
  return TimeText(t);
}

namespace {

double Secs(Duration d) { return ToSeconds(d); }

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Prometheus label values escape backslash, double quote and newline.
std::string Label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

}  // namespace

Json AgentJson(const ports::AgentSnapshot& a) {
  Json skills = Json::array();
  for (const auto& [name, p] : a.skills) skills.push_back({{"skill", name}, {"proficiency", p}});
  Json capacity = Json::object();
  for (const auto& [ch, n] : a.capacity) capacity[std::string(ChannelName(ch))] = n;
  Json contacts = Json::array();
  for (const auto& h : a.contacts) {
    Json c = {{"contact", std::to_string(h.contact.value())},
              {"channel", ChannelName(h.channel)},
              {"state", ContactStateName(h.state)},
              {"queue", h.queue},
              {"since", TimeJson(h.since)}};
    if (h.offer_expires != TimePoint{}) c["offer_expires"] = TimeJson(h.offer_expires);
    contacts.push_back(std::move(c));
  }
  return {{"id", a.id},
          {"name", a.name},
          {"team", a.team},
          {"presence", PresenceName(a.presence)},
          {"reason", a.reason},
          {"presence_since", TimeJson(a.presence_since)},
          {"skills", std::move(skills)},
          {"capacity", std::move(capacity)},
          {"contacts", std::move(contacts)},
          {"queues", a.queues},
          {"handled_today", a.handled_today}};
}

namespace {

// A JSON string as nlohmann's dump(-1, ' ', false, replace) writes it: plain printable ASCII is
// copied, anything else (escapes, UTF-8, invalid bytes) goes through the library itself.
void AppendString(std::string& out, std::string_view s) {
  const bool plain = std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x80 && c != '"' && c != '\\';
  });
  if (plain) {
    out += '"';
    out += s;
    out += '"';
  } else {
    out += Json(std::string(s)).dump(-1, ' ', false, Json::error_handler_t::replace);
  }
}

void AppendTime(std::string& out, TimePoint t) {
  if (t == TimePoint{}) {
    out += "null";
  } else {
    out += '"';
    out += TimeText(t);
    out += '"';
  }
}

template <class Int>
void AppendInt(std::string& out, Int v) {
  char buf[24];
  const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  out.append(buf, end);
}

}  // namespace

std::string AgentJsonText(const ports::AgentSnapshot& a) {
  // Keys in the order of nlohmann's std::map (sorted), as AgentJson(a).dump() writes them.
  std::string out;
  out.reserve(512);
  out += "{\"capacity\":{";
  // AgentJson assigns channel by channel: sorted by name, the last value of a repeated one wins.
  std::vector<std::pair<std::string_view, int>> capacity;
  for (const auto& [ch, n] : a.capacity) {
    const std::string_view name = ChannelName(ch);
    auto it = std::find_if(capacity.begin(), capacity.end(),
                           [&](const auto& c) { return c.first == name; });
    if (it != capacity.end()) {
      it->second = n;
    } else {
      capacity.emplace_back(name, n);
    }
  }
  std::sort(capacity.begin(), capacity.end());
  for (size_t i = 0; i < capacity.size(); ++i) {
    if (i) out += ',';
    AppendString(out, capacity[i].first);
    out += ':';
    AppendInt(out, capacity[i].second);
  }
  out += "},\"contacts\":[";
  for (size_t i = 0; i < a.contacts.size(); ++i) {
    const auto& h = a.contacts[i];
    if (i) out += ',';
    out += "{\"channel\":";
    AppendString(out, ChannelName(h.channel));
    out += ",\"contact\":\"";
    AppendInt(out, h.contact.value());
    out += '"';
    if (h.offer_expires != TimePoint{}) {
      out += ",\"offer_expires\":";
      AppendTime(out, h.offer_expires);
    }
    out += ",\"queue\":";
    AppendString(out, h.queue);
    out += ",\"since\":";
    AppendTime(out, h.since);
    out += ",\"state\":";
    AppendString(out, ContactStateName(h.state));
    out += '}';
  }
  out += "],\"handled_today\":";
  AppendInt(out, a.handled_today);
  out += ",\"id\":";
  AppendString(out, a.id);
  out += ",\"name\":";
  AppendString(out, a.name);
  out += ",\"presence\":";
  AppendString(out, PresenceName(a.presence));
  out += ",\"presence_since\":";
  AppendTime(out, a.presence_since);
  out += ",\"queues\":[";
  for (size_t i = 0; i < a.queues.size(); ++i) {
    if (i) out += ',';
    AppendString(out, a.queues[i]);
  }
  out += "],\"reason\":";
  AppendString(out, a.reason);
  out += ",\"skills\":[";
  for (size_t i = 0; i < a.skills.size(); ++i) {
    if (i) out += ',';
    out += "{\"proficiency\":";
    AppendInt(out, a.skills[i].second);
    out += ",\"skill\":";
    AppendString(out, a.skills[i].first);
    out += '}';
  }
  out += "],\"team\":";
  AppendString(out, a.team);
  out += '}';
  return out;
}

Json DirectoryJson(const ports::AgentSnapshot& a) {
  // A voice call reaches them now: Available with a free voice slot (capacity 1 when unset).
  int voice_slots = 1;
  for (const auto& [ch, n] : a.capacity) {
    if (ch == Channel::kVoice) voice_slots = n;
  }
  int voice_busy = 0;
  for (const auto& h : a.contacts) voice_busy += h.channel == Channel::kVoice ? 1 : 0;
  return {{"id", a.id},
          {"name", a.name},
          {"team", a.team},
          {"presence", PresenceName(a.presence)},
          {"available_for_voice", a.presence == Presence::kAvailable && voice_busy < voice_slots}};
}

Json QueueJson(const ports::QueueSnapshot& q) {
  Json channels = Json::array();
  for (Channel c : q.channels) channels.push_back(ChannelName(c));
  return {{"name", q.name},
          {"channels", std::move(channels)},
          {"priority", q.priority},
          {"waiting", q.waiting},
          {"longest_wait_seconds", Secs(q.longest_wait)},
          {"agents_staffed", q.agents_staffed},
          {"agents_available", q.agents_available},
          {"agents_busy", q.agents_busy},
          {"offered", q.offered},
          {"answered", q.answered},
          {"abandoned", q.abandoned},
          {"service_level", q.service_level},
          {"asa_seconds", Secs(q.asa)},
          {"aht_seconds", Secs(q.aht)},
          {"sl_target_seconds", Secs(q.sl_target)},
          {"sl_target", q.sl_target_fraction},
          {"recording", RecordingPolicyName(q.recording)}};
}

Json ContactJson(const ports::ContactSnapshot& c) {
  const ports::ContactRecord& r = c.record;
  Json attributes = Json::object();
  for (const auto& [k, v] : r.attributes) attributes[k] = v;
  Json out = {{"id", std::to_string(r.id.value())},
              {"channel", ChannelName(r.channel)},
              {"direction", DirectionName(r.direction)},
              {"state", ContactStateName(r.state)},
              {"queue", r.queue},
              {"agent", r.agent},
              {"priority", r.priority},
              {"attributes", std::move(attributes)},
              {"customer", r.customer.value() ? Json(std::to_string(r.customer.value())) : Json()},
              {"times",
               {{"arrived", TimeJson(r.times.arrived)},
                {"queued", TimeJson(r.times.queued)},
                {"offered", TimeJson(r.times.offered)},
                {"answered", TimeJson(r.times.answered)},
                {"wrap_up", TimeJson(r.times.wrap_up)},
                {"closed", TimeJson(r.times.closed)}}},
              {"disposition", c.disposition},
              {"notes", c.notes},
              {"offered_to", c.offered_to},
              {"on_hold", c.on_hold},
              {"muted", c.muted},
              // Issue 8: the queue consulted ("" for an agent) and the state (waiting for a
              // member of it, ringing, talking, conference).
              {"consult", c.consult_state.empty() ? Json()
                                                  : Json{{"target", c.consult_target},
                                                         {"queue", c.consult_queue},
                                                         {"state", c.consult_state},
                                                         {"conference", c.conference}}},
              // Blind transfer to an agent or a number (issue 8): ringing, then talking out.
              {"transfer", c.transfer_target.empty() && c.transferred_to_number.empty() ? Json()
                           : c.transfer_target.empty()
                               ? Json{{"number", c.transferred_to_number}, {"answered", true}}
                               : Json{{"target", c.transfer_target}, {"answered", false}}},
              {"monitor", c.monitor_supervisor.empty() ? Json()
                                                       : Json{{"supervisor", c.monitor_supervisor},
                                                              {"mode", c.monitor_mode}}}};
  AddRecordingFields(c, out);  // issue 6
  return out;
}

Json CustomerJson(const ports::Customer& c) {
  Json identities = Json::array();
  for (const auto& i : c.identities) {
    identities.push_back({{"channel", ChannelName(i.channel)}, {"address", i.address}});
  }
  Json fields = Json::parse(c.fields_json, nullptr, false);
  if (fields.is_discarded() || !fields.is_object()) fields = Json::object();
  return {
      {"id", std::to_string(c.id.value())}, {"name", c.name}, {"identities", std::move(identities)},
      {"fields", std::move(fields)},        {"tags", c.tags}, {"created", TimeJson(c.created)},
      {"updated", TimeJson(c.updated)}};
}

Json CustomerNoteJson(const ports::CustomerNote& n) {
  return {{"id", std::to_string(n.id)},
          {"customer", std::to_string(n.customer.value())},
          {"at", TimeJson(n.at)},
          {"author", n.author},
          {"text", n.text}};
}

Json ContactRecordJson(const ports::ContactRecord& r) {
  ports::ContactSnapshot s;
  s.record = r;
  Json j = ContactJson(s);
  j.erase("disposition");
  j.erase("notes");
  j.erase("offered_to");
  j.erase("on_hold");
  j.erase("muted");
  j.erase("monitor");
  return j;
}

Json UserJson(const auth::UserView& u) {
  Json roles = Json::array();
  for (Role r : u.roles) roles.push_back(RoleName(r));
  return {{"id", u.id},
          {"login", u.login},
          {"display_name", u.display_name},
          {"roles", std::move(roles)},
          {"team", u.team},
          {"agent", u.agent},
          {"disabled", u.disabled},
          {"has_password", u.has_password},
          {"has_sip_credentials", u.has_sip_credentials}};
}

Json TokenJson(const auth::TokenView& t) {
  return {{"prefix", t.prefix},
          {"user_id", t.user_id},
          {"scope", RoleName(t.scope)},
          {"description", t.description},
          {"created", TimeJson(t.created)},
          {"expires", t.expires ? TimeJson(*t.expires) : Json()},
          {"last_used", t.last_used ? TimeJson(*t.last_used) : Json()}};
}

std::string MetricsText(const ports::MetricsSnapshot& m, const HttpMetrics& http,
                        const std::vector<ports::MetricFamily>& adapters) {
  std::string out;
  out.reserve(4096);
  auto line = [&](std::string_view name, const std::string& labels, const std::string& value) {
    out += name;
    if (!labels.empty()) out += "{" + labels + "}";
    out += ' ';
    out += value;
    out += '\n';
  };
  auto q = [](const std::string& name) { return "queue=\"" + Label(name) + "\""; };

  Header(out, "parley_contacts_waiting", "gauge", "Contacts waiting in the queue now.");
  for (const auto& x : m.queues)
    line("parley_contacts_waiting", q(x.name), std::to_string(x.waiting));
  Header(out, "parley_longest_wait_seconds", "gauge",
         "Longest wait of a contact waiting in the queue now.");
  for (const auto& x : m.queues) {
    line("parley_longest_wait_seconds", q(x.name), Number(Secs(x.longest_wait)));
  }
  Header(out, "parley_agents", "gauge", "Agents by presence.");
  for (const auto& [p, n] : m.agents_by_presence) {
    line("parley_agents", "presence=\"" + std::string(PresenceName(p)) + "\"", std::to_string(n));
  }
  Header(out, "parley_contacts_offered_total", "counter", "Contacts that entered the queue.");
  for (const auto& x : m.queues) {
    line("parley_contacts_offered_total", q(x.name), std::to_string(x.offered_total));
  }
  Header(out, "parley_contacts_answered_total", "counter", "Contacts answered from the queue.");
  for (const auto& x : m.queues) {
    line("parley_contacts_answered_total", q(x.name), std::to_string(x.answered_total));
  }
  Header(out, "parley_contacts_abandoned_total", "counter", "Contacts abandoned in the queue.");
  for (const auto& x : m.queues) {
    line("parley_contacts_abandoned_total", q(x.name), std::to_string(x.abandoned_total));
  }
  Header(out, "parley_answer_wait_seconds", "histogram", "Wait of answered contacts.");
  for (const auto& x : m.queues) {
    for (const auto& [bound, count] : x.answer_wait_buckets) {
      line("parley_answer_wait_seconds_bucket", q(x.name) + ",le=\"" + Number(Secs(bound)) + "\"",
           std::to_string(count));
    }
    line("parley_answer_wait_seconds_bucket", q(x.name) + ",le=\"+Inf\"",
         std::to_string(x.answered_total));
    line("parley_answer_wait_seconds_sum", q(x.name), Number(Secs(x.answer_wait_sum)));
    line("parley_answer_wait_seconds_count", q(x.name), std::to_string(x.answered_total));
  }
  Header(out, "parley_event_sequence", "gauge", "Sequence number of the last journaled event.");
  line("parley_event_sequence", "", std::to_string(m.last_seq));

  Header(out, "parley_http_requests_total", "counter", "HTTP requests by route and status class.");
  for (const auto& r : http.requests) {
    line("parley_http_requests_total",
         "route=\"" + Label(r.route) + "\",code=\"" + std::to_string(r.status_class) + "xx\"",
         std::to_string(r.count));
  }
  Header(out, "parley_http_bad_requests_total", "counter", "Refused requests by reason.");
  for (const auto& [reason, n] : http.bad_requests) {
    line("parley_http_bad_requests_total", "reason=\"" + Label(reason) + "\"", std::to_string(n));
  }
  Header(out, "parley_websocket_connections", "gauge", "Open event-stream WebSockets.");
  line("parley_websocket_connections", "", std::to_string(http.ws_connections));
  Header(out, "parley_websocket_slow_consumer_closes_total", "counter",
         "Event streams closed because the client read too slowly.");
  line("parley_websocket_slow_consumer_closes_total", "",
       std::to_string(http.ws_slow_consumer_closes));
  Header(out, "parley_login_attempts_total", "counter", "Login attempts by outcome.");
  const auto& l = http.login;
  line("parley_login_attempts_total", "outcome=\"success\"", std::to_string(l.successes));
  line("parley_login_attempts_total", "outcome=\"failure\"", std::to_string(l.failures));
  line("parley_login_attempts_total", "outcome=\"throttled\"", std::to_string(l.throttled));
  Header(out, "parley_login_lockouts_total", "counter", "Login names locked out.");
  line("parley_login_lockouts_total", "", std::to_string(l.lockouts));
  for (const auto& f : adapters) {
    Header(out, f.name, f.type, f.help);
    for (const auto& [labels, value] : f.samples) line(f.name, labels, std::to_string(value));
  }
  return out;
}

}  // namespace parley::api
