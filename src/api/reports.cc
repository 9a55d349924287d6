#include "api/reports.h"

#include <date/date.h>

#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "api/views.h"
#include "base/text.h"

namespace parley::api {

namespace {

ApiError BadQuery(std::string message) {
  return ApiError{400, "bad_request", std::move(message), BadRequest::kBadQuery};
}

Json Seconds3(std::optional<Duration> d) {
  if (!d) return nullptr;
  return static_cast<double>(std::chrono::floor<std::chrono::milliseconds>(*d).count()) / 1000.0;
}
Json Ratio(std::optional<double> r) { return r ? Json(*r) : Json(nullptr); }

using Cell = std::function<Json(const ports::ReportRow&)>;
struct Column {
  const char* name;
  Cell cell;
};

const std::vector<Column>& Columns(ports::ReportSubject subject) {
  using R = ports::ReportRow;
  static const std::vector<Column> kCommonTail = {
      {"handled", [](const R& r) { return Json(r.handled); }},
      {"aht", [](const R& r) { return Seconds3(r.aht); }},
      {"talk", [](const R& r) { return Seconds3(r.talk); }},
      {"hold", [](const R& r) { return Seconds3(r.hold); }},
      {"wrap_up", [](const R& r) { return Seconds3(r.wrap_up); }},
      {"fcr_contacts", [](const R& r) { return Json(r.fcr_contacts); }},
      {"fcr", [](const R& r) { return Ratio(r.fcr); }},
      {"fcr_open", [](const R& r) { return Json(r.fcr_open); }},
      {"csat_answers", [](const R& r) { return Json(r.csat_answers); }},
      {"csat", [](const R& r) { return Ratio(r.csat); }},
      {"nps_answers", [](const R& r) { return Json(r.nps_answers); }},
      {"nps", [](const R& r) { return Ratio(r.nps); }},
  };
  auto with_tail = [](std::vector<Column> head) {
    head.insert(head.end(), kCommonTail.begin(), kCommonTail.end());
    return head;
  };
  static const std::vector<Column> kQueues = with_tail({
      {"queue", [](const R& r) { return Json(r.name); }},
      {"interval_start", [](const R& r) { return TimeJson(r.start); }},
      {"interval_end", [](const R& r) { return TimeJson(r.end); }},
      {"offered", [](const R& r) { return Json(r.offered); }},
      {"answered", [](const R& r) { return Json(r.answered); }},
      {"answered_within_target", [](const R& r) { return Json(r.answered_within_target); }},
      {"abandoned", [](const R& r) { return Json(r.abandoned); }},
      {"short_abandoned", [](const R& r) { return Json(r.short_abandoned); }},
      {"timed_out", [](const R& r) { return Json(r.timed_out); }},
      {"overflowed", [](const R& r) { return Json(r.overflowed); }},
      {"transferred", [](const R& r) { return Json(r.transferred); }},
      {"service_level", [](const R& r) { return Ratio(r.service_level); }},
      {"sl_target", [](const R& r) { return Json(r.sl_target); }},
      {"sl_threshold", [](const R& r) { return Seconds3(r.sl_threshold); }},
      {"abandon_rate", [](const R& r) { return Ratio(r.abandon_rate); }},
      {"asa", [](const R& r) { return Seconds3(r.asa); }},
  });
  static const std::vector<Column> kAgents = with_tail({
      {"agent", [](const R& r) { return Json(r.name); }},
      {"interval_start", [](const R& r) { return TimeJson(r.start); }},
      {"interval_end", [](const R& r) { return TimeJson(r.end); }},
      {"offers", [](const R& r) { return Json(r.offers); }},
      {"accepted", [](const R& r) { return Json(r.accepted); }},
      {"rejected", [](const R& r) { return Json(r.rejected); }},
      {"offer_timeouts", [](const R& r) { return Json(r.offer_timeouts); }},
      {"transferred", [](const R& r) { return Json(r.transferred); }},
      {"logged_in", [](const R& r) { return Seconds3(r.logged_in); }},
      {"busy", [](const R& r) { return Seconds3(r.busy); }},
      {"available_idle", [](const R& r) { return Seconds3(r.available_idle); }},
      {"not_ready_idle", [](const R& r) { return Seconds3(r.not_ready_idle); }},
      {"occupancy", [](const R& r) { return Ratio(r.occupancy); }},
      {"utilisation", [](const R& r) { return Ratio(r.utilisation); }},
  });
  return subject == ports::ReportSubject::kQueues ? kQueues : kAgents;
}

std::string_view SubjectName(ports::ReportSubject s) {
  return s == ports::ReportSubject::kQueues ? "queues" : "agents";
}

// One RFC 4180 field: quoted when it holds a separator, a quote or a line break.
void AppendField(std::string& line, const Json& value) {
  std::string text;
  if (value.is_string()) {
    text = value.get<std::string>();
  } else if (!value.is_null()) {
    text = value.dump();
  }
  if (text.find_first_of(",\"\r\n") == std::string::npos) {
    line += text;
    return;
  }
  line += '"';
  for (char c : text) line += c == '"' ? std::string("\"\"") : std::string(1, c);
  line += '"';
}

}  // namespace

std::optional<ApiError> ReadReportRequest(std::string_view query, std::string_view accept,
                                          ports::ReportSubject subject, ReportRequest& out) {
  const std::string_view who = subject == ports::ReportSubject::kQueues ? "queue" : "agent";
  std::map<std::string, std::string> q;
  if (auto e = ParseQuery(query, {"from", "to", "interval", who, "format"}, q)) return e;
  out.query.subject = subject;
  for (auto [name, slot] : {std::pair{"from", &out.query.from}, std::pair{"to", &out.query.to}}) {
    auto it = q.find(name);
    if (it == q.end()) return BadQuery(std::string(name) + ": required (an ISO 8601 time)");
    auto t = ParseIsoDateTime(it->second);
    if (!t) {
      return BadQuery(std::string(name) + ": '" + it->second +
                      "' is not an ISO 8601 time such as 2026-12-03T00:00:00Z (write + as %2B)");
    }
    *slot = *t;
  }
  if (out.query.from >= out.query.to) return BadQuery("from: must be before to");
  if (auto it = q.find("interval"); it != q.end()) out.query.interval = it->second;
  if (auto it = q.find(std::string(who)); it != q.end()) {
    std::string_view list = it->second;
    while (!list.empty()) {
      const size_t comma = list.find(',');
      const std::string_view name = list.substr(0, comma);
      if (name.empty() || name.size() > 128) {
        return BadQuery(std::string(who) + ": a comma-separated list of names, each 1-128 long");
      }
      out.query.names.emplace_back(name);
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
      if (list.empty()) return BadQuery(std::string(who) + ": a name after the last comma");
    }
  }
  if (auto it = q.find("format"); it != q.end()) {
    if (it->second != "json" && it->second != "csv") {
      return BadQuery("format: must be json or csv, got '" + it->second + "'");
    }
    out.csv = it->second == "csv";
  } else {
    out.csv = accept.find("text/csv") != std::string_view::npos;
  }
  return std::nullopt;
}

ApiError ReportError(const Status& s) {
  if (s.code() == StatusCode::kInvalidArgument) {
    return ApiError{400, "bad_request", s.message(), BadRequest::kBadQuery};
  }
  return FromStatus(s);
}

Json ReportJson(const ports::Report& report) {
  const auto& columns = Columns(report.subject);
  Json names = Json::array();
  for (const Column& c : columns) names.push_back(c.name);
  Json rows = Json::array();
  for (const ports::ReportRow& r : report.rows) {
    Json row = Json::object();
    for (const Column& c : columns) row[c.name] = c.cell(r);
    rows.push_back(std::move(row));
  }
  return {{"subject", SubjectName(report.subject)},
          {"interval", report.interval},
          {"time_zone", report.time_zone},
          {"from", TimeJson(report.from)},
          {"to", TimeJson(report.to)},
          {"as_of", TimeJson(report.as_of)},
          {"service_level_variant", "answered_within_threshold / (offered - short_abandoned)"},
          {"columns", std::move(names)},
          {"rows", std::move(rows)}};
}

std::string ReportCsv(const ports::Report& report) {
  const auto& columns = Columns(report.subject);
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) out += ',';
    AppendField(out, columns[i].name);
  }
  out += "\r\n";
  for (const ports::ReportRow& r : report.rows) {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (i > 0) out += ',';
      AppendField(out, columns[i].cell(r));
    }
    out += "\r\n";
  }
  return out;
}

std::string ReportFilename(const ports::Report& report) {
  const auto day = date::format("%Y-%m-%d", std::chrono::floor<std::chrono::seconds>(report.from));
  return "parley-" + std::string(SubjectName(report.subject)) + "-" + day + "-" + report.interval +
         ".csv";
}

Json WorkCodesJson(const std::vector<ports::WorkCode>& codes) {
  Json list = Json::array();
  for (const ports::WorkCode& c : codes) list.push_back({{"code", c.code}, {"label", c.label}});
  return list;
}

}  // namespace parley::api
