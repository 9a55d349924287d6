#include "analytics/flow_kpi.h"

namespace parley {

std::optional<double> SurveyStats::Csat() const {
  if (csat_answers == 0) return std::nullopt;
  return static_cast<double>(csat_satisfied) / static_cast<double>(csat_answers);
}

std::optional<double> SurveyStats::CsatMean() const {
  if (csat_answers == 0) return std::nullopt;
  return static_cast<double>(csat_sum) / static_cast<double>(csat_answers);
}

std::optional<double> SurveyStats::Nps() const {
  if (nps_answers == 0) return std::nullopt;
  return 100.0 * (static_cast<double>(promoters) - static_cast<double>(detractors)) /
         static_cast<double>(nps_answers);
}

std::optional<double> FlowStats::ContainmentRate() const {
  if (entered == 0) return std::nullopt;
  return static_cast<double>(completed) / static_cast<double>(entered);
}

std::optional<double> FlowStats::AbandonRate() const {
  if (entered == 0) return std::nullopt;
  return static_cast<double>(abandoned_in_ivr + abandoned_in_queue) / static_cast<double>(entered);
}

std::optional<Duration> FlowStats::AverageIvrTime() const {
  if (ivr_time_count == 0) return std::nullopt;
  return ivr_time / static_cast<int64_t>(ivr_time_count);
}

std::optional<double> FlowStepStats::DropOff() const {
  if (entered == 0) return std::nullopt;
  return static_cast<double>(abandoned) / static_cast<double>(entered);
}

std::optional<double> FlowStepStats::ExitShare(std::string_view exit) const {
  if (exited == 0) return std::nullopt;
  for (const auto& [name, n] : exits) {
    if (name == exit) return static_cast<double>(n) / static_cast<double>(exited);
  }
  return 0.0;
}

const FlowStats* FlowReport::FindFlow(std::string_view flow) const {
  for (const auto& f : flows) {
    if (f.flow == flow) return &f;
  }
  return nullptr;
}

const FlowStepStats* FlowReport::FindStep(std::string_view flow, std::string_view step) const {
  for (const auto& s : steps) {
    if (s.flow == flow && s.step == step) return &s;
  }
  return nullptr;
}

size_t FlowKpiCalculator::FlowIndex(const std::string& flow) {
  for (size_t i = 0; i < report_.flows.size(); ++i) {
    if (report_.flows[i].flow == flow) return i;
  }
  report_.flows.push_back(FlowStats{.flow = flow});
  return report_.flows.size() - 1;
}

FlowStepStats& FlowKpiCalculator::StepOf(const flow::FlowEvent& e) {
  for (auto& s : report_.steps) {
    if (s.flow == e.flow && s.step == e.step) return s;
  }
  report_.steps.push_back(FlowStepStats{.flow = e.flow, .step = e.step, .type = e.step_type});
  return report_.steps.back();
}

void FlowKpiCalculator::AddIvrTime(size_t flow, Duration d) {
  FlowAt(flow).ivr_time += d;
  ++FlowAt(flow).ivr_time_count;
}

void FlowKpiCalculator::Add(const flow::FlowEvent& e) {
  using K = flow::FlowEventKind;
  auto it = open_.find(e.contact);
  if (it == open_.end()) {
    // The first event of a contact's session: it entered the flow the event is in.
    const size_t f = FlowIndex(e.flow);
    ++FlowAt(f).entered;
    it = open_.emplace(e.contact, Open{f, e.at, false}).first;
  }
  Open& o = it->second;
  FlowStats& fs = FlowAt(o.flow);
  switch (e.kind) {
    case K::kStepEntered: {
      ++StepOf(e).entered;
      if (e.step_type == "queue" && !o.queued) {
        o.queued = true;
        ++fs.queued;
        AddIvrTime(o.flow, e.at - o.first);
      }
      break;
    }
    case K::kStepExited: {
      FlowStepStats& s = StepOf(e);
      ++s.exited;
      bool found = false;
      for (auto& [name, n] : s.exits) {
        if (name == e.exit) {
          ++n;
          found = true;
        }
      }
      if (!found) s.exits.emplace_back(e.exit, 1);
      break;
    }
    case K::kSurveyAnswer: {
      if (e.survey_kind == "csat" && e.score >= 1 && e.score <= 5) {
        ++fs.surveys.csat_answers;
        fs.surveys.csat_sum += e.score;
        if (e.score >= 4) ++fs.surveys.csat_satisfied;
      } else if (e.survey_kind == "nps" && e.score >= 0 && e.score <= 10) {
        ++fs.surveys.nps_answers;
        if (e.score >= 9) ++fs.surveys.promoters;
        if (e.score <= 6) ++fs.surveys.detractors;
      }
      break;
    }
    case K::kFlowEnded: {
      ++fs.ended;
      switch (e.outcome) {
        case flow::FlowOutcome::kCompleted:
          ++fs.completed;
          break;
        case flow::FlowOutcome::kAbandoned:
          ++StepOf(e).abandoned;
          ++(e.step_type == "queue" ? fs.abandoned_in_queue : fs.abandoned_in_ivr);
          break;
        case flow::FlowOutcome::kConnected:
          ++fs.connected;
          break;
        case flow::FlowOutcome::kTransferred:
          ++fs.transferred;
          break;
        case flow::FlowOutcome::kVoicemail:
          ++fs.voicemail;
          break;
        case flow::FlowOutcome::kCallback:
          ++fs.callback;
          break;
        case flow::FlowOutcome::kFailed:
        case flow::FlowOutcome::kNone:
          ++fs.failed;
          break;
      }
      if (!o.queued) AddIvrTime(o.flow, e.at - o.first);
      open_.erase(it);
      break;
    }
  }
}

FlowReport FlowKpiCalculator::Report() const {
  FlowReport r = report_;
  FlowStats& all = r.overall;
  all = FlowStats{};
  for (const FlowStats& f : r.flows) {
    all.entered += f.entered;
    all.ended += f.ended;
    all.completed += f.completed;
    all.abandoned_in_ivr += f.abandoned_in_ivr;
    all.abandoned_in_queue += f.abandoned_in_queue;
    all.queued += f.queued;
    all.connected += f.connected;
    all.transferred += f.transferred;
    all.voicemail += f.voicemail;
    all.callback += f.callback;
    all.failed += f.failed;
    all.ivr_time += f.ivr_time;
    all.ivr_time_count += f.ivr_time_count;
    all.surveys.csat_answers += f.surveys.csat_answers;
    all.surveys.csat_satisfied += f.surveys.csat_satisfied;
    all.surveys.csat_sum += f.surveys.csat_sum;
    all.surveys.nps_answers += f.surveys.nps_answers;
    all.surveys.promoters += f.surveys.promoters;
    all.surveys.detractors += f.surveys.detractors;
  }
  return r;
}

}  // namespace parley
