#pragma once
// FlowKpiCalculator: the one definition of every contact-flow KPI (docs/metrics.md, "Contact
// flows"), computed incrementally from flow::FlowEvents: IVR containment, abandons per step
// (drop-off), menu choice shares, time in the IVR, CSAT and NPS. Events of one contact must
// arrive in time order; contacts may interleave. A contact that ends a flow and later starts
// another (a post-contact survey flow) counts as a new entry into that flow.
//
// Ownership and threads: a plain value, single-threaded; Report() does not change it.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/time.h"
#include "domain/ids.h"
#include "flow/session.h"

namespace parley {

// Survey answers: CSAT on 1-5, NPS on 0-10.
struct SurveyStats {
  uint64_t csat_answers = 0;
  uint64_t csat_satisfied = 0;  // answers of 4 or 5
  int64_t csat_sum = 0;
  uint64_t nps_answers = 0;
  uint64_t promoters = 0;   // 9-10
  uint64_t detractors = 0;  // 0-6
  // csat_satisfied / csat_answers.
  std::optional<double> Csat() const;
  // csat_sum / csat_answers.
  std::optional<double> CsatMean() const;
  // 100 * (promoters - detractors) / nps_answers, in [-100, 100].
  std::optional<double> Nps() const;
};

// Figures of the contacts that entered one flow (the flow their first step was in; sub-flow
// steps count for the flow that called them).
struct FlowStats {
  std::string flow;
  uint64_t entered = 0;  // contacts whose flow session started here
  uint64_t ended = 0;    // of those, how many ended (kFlowEnded) by the report time
  uint64_t completed = 0;
  uint64_t abandoned_in_ivr = 0;    // kAbandoned at a step that is not a queue step
  uint64_t abandoned_in_queue = 0;  // kAbandoned at a queue step
  uint64_t queued = 0;              // contacts that entered at least one queue step
  uint64_t connected = 0;
  uint64_t transferred = 0;
  uint64_t voicemail = 0;
  uint64_t callback = 0;
  uint64_t failed = 0;
  // Time in the IVR: from the first step entered to the first queue step entered or, for
  // contacts that never queue, to the end of the flow.
  Duration ivr_time{0};
  uint64_t ivr_time_count = 0;
  SurveyStats surveys;
  // completed / entered: the share of contacts the flow finished by itself.
  std::optional<double> ContainmentRate() const;
  // (abandoned_in_ivr + abandoned_in_queue) / entered.
  std::optional<double> AbandonRate() const;
  // ivr_time / ivr_time_count.
  std::optional<Duration> AverageIvrTime() const;
};

// One step of one flow.
struct FlowStepStats {
  std::string flow;  // the flow the step belongs to (a sub-flow's own name)
  std::string step;
  std::string type;
  uint64_t entered = 0;    // kStepEntered events
  uint64_t abandoned = 0;  // contacts whose flow ended kAbandoned at this step
  // Exits taken, by name, in first-seen order; for a menu these are the options chosen.
  std::vector<std::pair<std::string, uint64_t>> exits;
  uint64_t exited = 0;  // sum of `exits`
  // abandoned / entered: the step's drop-off.
  std::optional<double> DropOff() const;
  // The share of exits that took `exit`.
  std::optional<double> ExitShare(std::string_view exit) const;
};

struct FlowReport {
  FlowStats overall;                 // every flow together (flow "")
  std::vector<FlowStats> flows;      // in first-seen order
  std::vector<FlowStepStats> steps;  // in first-seen order
  const FlowStats* FindFlow(std::string_view flow) const;
  const FlowStepStats* FindStep(std::string_view flow, std::string_view step) const;
};

class FlowKpiCalculator {
 public:
  void Add(const flow::FlowEvent& event);
  // Contacts still inside a flow count as entered but not ended.
  FlowReport Report() const;

 private:
  struct Open {
    size_t flow = 0;  // index into report_.flows
    TimePoint first{};
    bool queued = false;
  };
  FlowStats& FlowAt(size_t i) { return report_.flows[i]; }
  size_t FlowIndex(const std::string& flow);
  FlowStepStats& StepOf(const flow::FlowEvent& e);
  void AddIvrTime(size_t flow, Duration d);

  FlowReport report_;
  std::map<ContactId, Open> open_;
};

}  // namespace parley
