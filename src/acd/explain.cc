// How the ACD explains itself. Lives beside the Impl (acd_impl.h) because it reads the same
// indices the decisions use: an explanation walks every member of the contact's queue and applies
// the decision's own checks in the order the decision applies them.

#include "acd/explain.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "acd/acd_impl.h"

namespace parley {

using namespace acd_internal;  // NOLINT(google-build-using-namespace)

namespace {

std::string RuleText(Strategy s) {
  switch (s) {
    case Strategy::kLongestIdle:
      return "longest-idle: the agent whose last contact ended longest ago (or who became "
             "available earliest) first";
    case Strategy::kLeastOccupied:
      return "least-occupied: the agent using the smallest share of its capacity first, then "
             "longest idle";
    case Strategy::kFewestContacts:
      return "fewest-contacts: the agent who handled the fewest contacts today first, then "
             "longest idle";
    case Strategy::kRoundRobin:
      return "round-robin: the next member after the one served last, in member order";
    case Strategy::kLinear:
      return "linear: the first free member in member order";
    case Strategy::kRandom:
      return "random: a seeded random draw, made each time an agent becomes free";
    case Strategy::kBestSkill:
      return "best-skill: the highest proficiency in the queue's skills first, then longest idle";
    case Strategy::kRingAll:
      return "ring-all: every eligible agent is offered the contact; the first to accept wins";
  }
  return "";
}

std::string Secs(Duration d) { return fmt::format("{:.0f}s", ToSeconds(d)); }

}  // namespace

std::string Acd::Impl::DescribeStep(const QueueRt& q, uint32_t step) const {
  const StepRule& r = q.step_rules[step];
  std::string out;
  for (const SkillRequirement& s : r.skills) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{}>={}", skill_names[s.skill], s.min_proficiency);
  }
  if (!r.teams.empty()) out += out.empty() ? "teams restricted" : ", teams restricted";
  return out.empty() ? "any member" : out;
}

std::string Acd::Impl::DescribeScore(const QueueRt& q, const MemberNode& n) const {
  const AgentRt& a = agents[n.agent];
  switch (q.def.strategy) {
    case Strategy::kLongestIdle:
    case Strategy::kRingAll:
      return fmt::format("idle {}", Secs(Now() - a.idle_since));
    case Strategy::kLeastOccupied:
      return fmt::format("occupancy {:.0f}%, idle {}", LoadPpm(a) / 10000.0,
                         Secs(Now() - a.idle_since));
    case Strategy::kFewestContacts:
      return fmt::format("{} handled today, idle {}", HandledToday(a), Secs(Now() - a.idle_since));
    case Strategy::kRoundRobin:
    case Strategy::kLinear:
      return fmt::format("member position {}", Cold(n).position + 1);
    case Strategy::kRandom:
      return "random draw";
    case Strategy::kBestSkill:
      return fmt::format("proficiency {}, idle {}", Cold(n).proficiency,
                         Secs(Now() - a.idle_since));
  }
  return "";
}

std::string Acd::Impl::DescribeIneligible(const AgentRt& a, const MemberNode& n, const ContactRt& c,
                                          TimePoint now) const {
  const QueueRt& q = queues[c.queue];
  if (a.removed) return "removed from the configuration";
  const MemberCold& cold = Cold(n);
  if (cold.cls == kNoClass || (q.class_masks[cold.cls] & (uint64_t{1} << c.step)) == 0) {
    // Which requirement of the current step fails, and when (if ever) the agent comes in.
    const StepRule& rule = q.step_rules[c.step];
    std::string why;
    for (const SkillRequirement& r : rule.skills) {
      if (a.Proficiency(r.skill) < r.min_proficiency) {
        why = fmt::format("skill {} is {}, needs {}", skill_names[r.skill], a.Proficiency(r.skill),
                          r.min_proficiency);
        break;
      }
    }
    if (why.empty() && !a.InTeams(rule.teams)) why = "team not in the rings of this step";
    if (cold.cls != kNoClass) {
      for (uint32_t s = c.step + 1; s < q.step_count; ++s) {
        if (q.class_masks[cold.cls] & (uint64_t{1} << s)) {
          why += fmt::format("; eligible from escalation step {} (after {})", s,
                             Secs(q.def.escalation[s - 1].after));
          break;
        }
      }
    }
    return why;
  }
  if (a.presence == Presence::kOffline) return "offline";
  if (a.presence == Presence::kNotReady) {
    return a.reason.empty() ? "not ready" : "not ready (" + a.reason + ")";
  }
  for (const WorkRt& w : a.work) {
    if (w.contact == c.id)
      return std::string("holds this contact (") + std::string(WorkStageName(w.stage)) + ")";
  }
  const Channel ch = q.def.channels[n.channel_slot];
  const int i = Index(ch);
  if (a.def.capacity[i] == 0) return fmt::format("takes no {} contacts", ChannelName(ch));
  if (a.used[i] >= a.def.capacity[i]) {
    return fmt::format("{} capacity full ({}/{})", ChannelName(ch), a.used[i], a.def.capacity[i]);
  }
  if (a.def.voice_blocks_other_channels && ch != Channel::kVoice && a.voice_active > 0) {
    return "on a voice contact, which blocks other channels";
  }
  if (a.def.wrap_up_blocks_other_channels && a.wrap_ups > 0) {
    return "in wrap-up, which blocks new contacts";
  }
  for (const SkillRequirement& r : c.spec.skills) {
    if (a.Proficiency(r.skill) < r.min_proficiency) {
      return fmt::format("contact needs {}>={}, agent has {}", skill_names[r.skill],
                         r.min_proficiency, a.Proficiency(r.skill));
    }
  }
  for (const Refusal& r : c.refused) {
    if (r.agent == a.index && now < r.until) {
      return fmt::format("refused this contact; skipped for another {}", Secs(r.until - now));
    }
  }
  if (cold.delay.count() > 0 && now - c.queued_at < cold.delay) {
    return fmt::format("serves this queue only after {} of waiting (routing profile); {} left",
                       Secs(cold.delay), Secs(cold.delay - (now - c.queued_at)));
  }
  return {};
}

Explanation Acd::Impl::BuildExplanation(const ContactRt& c, AgentIndex chosen) const {
  const QueueRt& q = queues[c.queue];
  const TimePoint now = Now();
  Explanation e;
  e.contact = c.id.value();
  e.state = std::string(ContactStateName(c.state));
  e.queue = q.def.name;
  e.strategy = std::string(StrategyName(q.def.strategy));
  e.step = c.step;
  e.rule = RuleText(q.def.strategy);
  std::vector<const MemberNode*> eligible;
  std::map<std::string, int> blocked;  // reason kind -> count, for the summary
  for (const MemberNode* np : q.nodes) {
    const MemberNode& n = *np;
    if (n.channel_slot != c.channel_slot) continue;
    const AgentRt& a = agents[n.agent];
    AgentConsideration ac;
    ac.agent = n.agent;
    ac.name = a.def.name;
    ac.chosen = n.agent == chosen ||
                std::find(c.offered_to.begin(), c.offered_to.end(), n.agent) != c.offered_to.end();
    std::string why = DescribeIneligible(a, n, c, now);
    // The agent holding the contact was eligible when chosen; say so rather than "busy".
    if (ac.chosen && why.rfind("holds this contact", 0) == 0) why.clear();
    if (why.empty()) {
      ac.eligible = true;
      if (n.linked) {
        ac.score_primary = n.key1;
        ac.score_secondary = n.key2;
      }
      ac.reason = DescribeScore(q, n);
      eligible.push_back(&n);
    } else {
      ac.reason = why;
      const std::string kind = why.substr(0, why.find_first_of(" (;"));
      ++blocked[kind];
    }
    e.agents.push_back(std::move(ac));
  }
  std::stable_sort(e.agents.begin(), e.agents.end(),
                   [](const AgentConsideration& a, const AgentConsideration& b) {
                     if (a.chosen != b.chosen) return a.chosen;
                     if (a.eligible != b.eligible) return a.eligible;
                     if (a.score_primary != b.score_primary) {
                       return a.score_primary < b.score_primary;
                     }
                     return a.score_secondary < b.score_secondary;
                   });
  const std::string step_text =
      c.step == 0 ? ""
                  : fmt::format(" at escalation step {} ({})", c.step, DescribeStep(q, c.step));
  // The chosen agent counts once: it is usually in `eligible` already (see above).
  const bool chosen_listed_ineligible =
      c.state != ContactState::kWaiting &&
      std::any_of(e.agents.begin(), e.agents.end(),
                  [&](const AgentConsideration& ac) { return ac.agent == chosen && !ac.eligible; });
  if (chosen != kNone) {
    e.summary = fmt::format("{} to {} by {}{}: {} of {} members eligible", e.state,
                            agents[chosen].def.name, e.strategy, step_text,
                            eligible.size() + (chosen_listed_ineligible ? 1 : 0), e.agents.size());
  } else {
    std::string parts;
    for (const auto& [kind, count] : blocked) {
      if (!parts.empty()) parts += ", ";
      parts += fmt::format("{} {}", count, kind);
    }
    if (e.agents.empty()) {
      e.summary = fmt::format("waiting{}: queue {} has no members for {}", step_text, q.def.name,
                              ChannelName(c.channel));
    } else if (eligible.empty()) {
      e.summary = fmt::format("waiting{}: no eligible agent among {} members ({})", step_text,
                              e.agents.size(), parts);
    } else {
      e.summary = fmt::format("waiting{}: {} eligible agents are about to be offered it", step_text,
                              eligible.size());
    }
  }
  return e;
}

std::string FormatExplanation(const Explanation& e) {
  std::string out = fmt::format("contact {} in queue {} ({}): {}\n  rule: {}\n", e.contact, e.queue,
                                e.state, e.summary, e.rule);
  for (const AgentConsideration& a : e.agents) {
    out += fmt::format("  {} {:<12} {}\n", a.chosen ? "*" : (a.eligible ? "+" : "-"), a.name,
                       a.reason);
  }
  return out;
}

}  // namespace parley
