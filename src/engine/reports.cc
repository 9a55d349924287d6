// Engine's ports::Reports: the configured code lists, and period reports over the journal
// (src/analytics/period_report.h). Names and scope are resolved on the loop; the journal read
// and the computation run on EngineOptions::report_worker, so a long report never stalls routing.

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "analytics/period_report.h"
#include "engine/engine.h"

namespace parley::engine {

using ports::Caller;

namespace {

constexpr size_t kMaxReportPeriods = 2000;
constexpr Duration kMaxReportRange = std::chrono::hours(24 * 400);
constexpr size_t kMaxReportEvents = 5'000'000;
constexpr size_t kJournalPage = 4096;

// The journal's events with time in [from, until), in time order. The engine journals events in
// its clock's order, so event times grow with the sequence number and the first one is found by
// bisection instead of reading the whole history.
Result<std::vector<Event>> ReadJournalSlice(ports::EventJournal& journal, TimePoint from,
                                            TimePoint until) {
  auto last = journal.LastSequence();
  if (!last.ok()) return last.status();
  ports::Sequence lo = 0;  // every event with seq <= lo is before `from` (or lo is 0)
  ports::Sequence hi = *last;
  while (lo < hi) {
    const ports::Sequence mid = lo + (hi - lo) / 2;
    auto page = journal.ReadAfter(mid, 1);
    if (!page.ok()) return page.status();
    if (!page->empty() && page->front().event.time < from) {
      lo = page->front().seq;
    } else {
      hi = mid;
    }
  }
  std::vector<Event> events;
  bool more = true;
  for (ports::Sequence after = lo; more;) {
    auto page = journal.ReadAfter(after, kJournalPage);
    if (!page.ok()) return page.status();
    more = !page->empty();
    for (ports::JournalEntry& entry : *page) {
      after = entry.seq;
      if (entry.event.time >= until) {
        more = false;
        break;
      }
      if (entry.event.time < from) continue;
      if (events.size() == kMaxReportEvents) {
        return InvalidArgument("from: the range holds more than " +
                               std::to_string(kMaxReportEvents) +
                               " events; choose a shorter range");
      }
      events.push_back(std::move(entry.event));
    }
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& a, const Event& b) { return a.time < b.time; });
  return events;
}

void SetHandling(ports::ReportRow& row, const ContactStats& s) {
  row.handled = s.handled;
  row.aht = s.Aht();
  row.talk = s.AverageTalk();
  row.hold = s.AverageHold();
  row.wrap_up = s.AverageWrapUp();
}

// What the customers made of the contacts: surveys and first-contact resolution.
void SetOutcomes(ports::ReportRow& row, const SurveyStats& s, const FcrStats& fcr) {
  row.csat_answers = s.csat_answers;
  row.csat = s.Csat();
  row.nps_answers = s.nps_answers;
  row.nps = s.Nps();
  row.fcr_contacts = fcr.contacts;
  row.fcr = fcr.Fcr();
  row.fcr_open = fcr.open;
}

// The customer links first-contact resolution judges by: the contacts that arrived from the
// events' start until the last window that can matter has ended (or now).
Result<FcrInput> ReadFcrInput(ports::ContactRecords& records, TimePoint from, TimePoint last_end,
                              Duration window, TimePoint now) {
  FcrInput fcr{.window = window, .now = now};
  auto contacts = records.CustomerContacts(from, std::min(now + Duration(1), last_end + window));
  if (!contacts.ok()) return contacts.status();
  fcr.contacts.reserve(contacts->size());
  for (const ports::CustomerContact& c : *contacts) {
    fcr.contacts.push_back({.contact = c.id,
                            .customer = c.customer.value(),
                            .customer_initiated = c.direction == Direction::kInbound,
                            .arrived = c.arrived});
  }
  return fcr;
}

void FillQueueRow(ports::ReportRow& row, const QueuePeriodRow& r) {
  const ContactStats& s = r.stats;
  row.offered = s.offered;
  row.answered = s.answered;
  row.answered_within_target = s.answered_within_target;
  row.abandoned = s.abandoned;
  row.short_abandoned = s.short_abandoned;
  row.timed_out = s.timed_out;
  row.overflowed = s.overflowed;
  row.transferred = s.transferred;
  row.service_level = s.ServiceLevel(ServiceLevelVariant::kExcludeShortAbandons);
  row.abandon_rate = s.AbandonRate(/*exclude_short=*/true);
  row.asa = s.Asa();
  SetHandling(row, s);
  SetOutcomes(row, r.surveys, r.fcr);
}

void FillAgentRow(ports::ReportRow& row, const AgentPeriodRow& r) {
  const AgentStats& a = r.stats;
  row.offers = a.offers;
  row.accepted = a.accepted;
  row.rejected = a.rejected;
  row.offer_timeouts = a.offer_timeouts;
  row.transferred = a.transferred;
  row.logged_in = a.logged_in;
  row.busy = a.busy;
  row.available_idle = a.available_idle;
  row.not_ready_idle = a.not_ready_idle;
  row.occupancy = a.Occupancy();
  row.utilisation = a.Utilisation();
  // The handle-time averages are ContactStats' definitions over the agent's handlings.
  ContactStats handling;
  handling.handled = a.handled;
  handling.talk = a.talk;
  handling.hold = a.hold;
  handling.wrap_up = a.wrap_up;
  SetHandling(row, handling);
  SetOutcomes(row, r.surveys, r.fcr);
}

}  // namespace

void Engine::ListWorkCodes(ports::Reply<ports::WorkCodes> reply) {
  Post([this, reply = std::move(reply)] {
    ports::WorkCodes codes;
    for (const auto& c : config_->reason_codes) codes.reason_codes.push_back({c.code, c.label});
    for (const auto& c : config_->disposition_codes) {
      codes.disposition_codes.push_back({c.code, c.label});
    }
    codes.time_zone = config_->routing.settings.time_zone;
    reply(std::move(codes));
  });
}

void Engine::RunReport(const Caller& who, ports::ReportQuery query,
                       ports::Reply<ports::Report> reply) {
  Post([this, who, query = std::move(query), reply = std::move(reply)]() mutable {
    const bool queues = query.subject == ports::ReportSubject::kQueues;
    const std::string what = queues ? "queue" : "agent";
    const auto grain = ParseReportGrain(query.interval);
    if (!grain) {
      return reply(InvalidArgument("interval: must be one of 15m, 30m, 1h, 1d, 1w, 1mo; got '" +
                                   query.interval + "'"));
    }
    if (query.to - query.from > kMaxReportRange) {
      return reply(InvalidArgument("to: a report spans at most 400 days"));
    }
    if (queues && who.reach == Caller::Reach::kSelf) {
      return reply(PermissionDenied("queue reports need reports.read beyond one's own agent"));
    }
    const RoutingConfig& routing = config_->routing;
    // The selection, in configuration order; unknown and unreachable names get one answer.
    std::vector<std::string> selected;
    auto visible = [&](const std::string& name) {
      return queues ? routing.FindQueue(name).has_value()
                    : routing.FindAgent(name).has_value() && MaySeeAgent(who, name);
    };
    if (query.names.empty()) {
      if (queues) {
        for (const QueueDef& q : routing.queues) selected.push_back(q.name);
      } else {
        for (const AgentDef& a : routing.agents) {
          if (visible(a.name)) selected.push_back(a.name);
        }
      }
    } else {
      for (const std::string& name : query.names) {
        if (!visible(name))
          return reply(InvalidArgument(what + ": no " + what + " '" + name + "'"));
        if (std::find(selected.begin(), selected.end(), name) == selected.end()) {
          selected.push_back(name);
        }
      }
    }
    auto periods =
        ReportPeriods(query.from, query.to, *grain, routing.settings.time_zone, kMaxReportPeriods);
    if (!periods.ok()) return reply(periods.status());

    // The journal's events carry the Acd's indices, which keep their names across reloads.
    std::vector<std::string> names(queues ? acd_->queue_count() : acd_->agent_count());
    KpiOptions kpi;
    for (size_t i = 0; i < names.size(); ++i) {
      if (queues) {
        names[i] = acd_->QueueName(static_cast<QueueIndex>(i));
        const auto q = routing.FindQueue(names[i]);
        kpi.queue_service_level_targets.push_back(q ? routing.queues[*q].service_level_threshold
                                                    : Duration{0});
      } else {
        names[i] = acd_->AgentName(static_cast<AgentIndex>(i));
      }
    }
    ports::Report head;
    head.subject = query.subject;
    head.interval = std::string(ReportGrainName(*grain));
    head.time_zone = routing.settings.time_zone;
    head.from = periods->front().start;
    head.to = periods->back().end;
    head.as_of = std::min(clock_.Now(), head.to);
    // The rows to fill, with their queue's targets, in selection order.
    for (const std::string& name : selected) {
      for (const ReportPeriod& p : *periods) {
        ports::ReportRow row;
        row.name = name;
        row.start = p.start;
        row.end = p.end;
        if (queues) {
          const QueueDef& def = routing.queues[*routing.FindQueue(name)];
          row.sl_threshold = def.service_level_threshold;
          row.sl_target = def.service_level_fraction;
        }
        head.rows.push_back(std::move(row));
      }
    }
    ports::Store* store = &store_;
    OffLoopOn<ports::Report>(
        options_.report_worker,
        [store, queues, names = std::move(names), kpi = std::move(kpi), periods = *periods,
         head = std::move(head), fcr_window = config_->reports.fcr_window,
         now = clock_.Now()]() mutable -> Result<ports::Report> {
          const TimePoint from = periods.front().start - kReportLead;
          auto events = ReadJournalSlice(*store, from, head.as_of + Duration(1));
          if (!events.ok()) return events.status();
          auto fcr = ReadFcrInput(*store, from, periods.back().end, fcr_window, now);
          if (!fcr.ok()) return fcr.status();
          const PeriodReport report =
              ComputePeriodReport(*events, periods, kpi, queues ? names.size() : 0,
                                  queues ? 0 : names.size(), head.as_of, *fcr);
          std::map<std::string, size_t> index_of;
          for (size_t i = 0; i < names.size(); ++i) index_of.emplace(names[i], i);
          const size_t n = periods.size();
          for (size_t r = 0; r < head.rows.size(); ++r) {
            auto it = index_of.find(head.rows[r].name);
            if (it == index_of.end()) continue;  // not in the Acd yet: nothing happened
            const size_t k = it->second * n + r % n;
            if (queues) {
              FillQueueRow(head.rows[r], report.queues[k]);
            } else {
              FillAgentRow(head.rows[r], report.agents[k]);
            }
          }
          return std::move(head);
        },
        [reply = std::move(reply)](Result<ports::Report> r) { reply(std::move(r)); });
  });
}

}  // namespace parley::engine
