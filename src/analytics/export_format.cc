#include "analytics/export_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace parley {

ExportNames ExportNamesFrom(const RoutingConfig& routing) {
  ExportNames names;
  names.agents.reserve(routing.agents.size());
  for (const auto& a : routing.agents) names.agents.push_back(a.name);
  names.queues.reserve(routing.queues.size());
  for (const auto& q : routing.queues) names.queues.push_back(q.name);
  names.agent_queues.resize(routing.agents.size());
  for (size_t a = 0; a < routing.agents.size(); ++a) {
    for (const auto& assignment : routing.agents[a].queues) {
      names.agent_queues[a].push_back(assignment.queue);
    }
  }
  for (size_t q = 0; q < routing.queues.size(); ++q) {
    for (AgentIndex a : routing.queues[q].members) {
      if (a < names.agent_queues.size())
        names.agent_queues[a].push_back(static_cast<QueueIndex>(q));
    }
  }
  for (auto& queues : names.agent_queues) {
    std::sort(queues.begin(), queues.end());
    queues.erase(std::unique(queues.begin(), queues.end()), queues.end());
  }
  return names;
}

std::string FormatIsoUtcMillis(TimePoint t) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day ymd(day);
  const hh_mm_ss<milliseconds> hms(ms - day);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                     hms.subseconds().count());
}

std::string FormatSecondsMillis(Duration d) {
  const int64_t ms = d.count() / 1000;
  const int64_t magnitude = ms < 0 ? -ms : ms;
  return fmt::format("{}{}.{:03}", ms < 0 ? "-" : "", magnitude / 1000, magnitude % 1000);
}

void AppendCsvField(std::string& out, std::string_view field) {
  const bool quote = field.find_first_of(",\"\r\n") != std::string_view::npos ||
                     (!field.empty() && (field.front() == ' ' || field.back() == ' '));
  if (!quote) {
    out.append(field);
    return;
  }
  out.push_back('"');
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

void AppendCsvRow(std::string& out, const std::vector<std::string>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendCsvField(out, fields[i]);
  }
  out.append("\r\n");
}

}  // namespace parley
