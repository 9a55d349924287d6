#pragma once
// The report routes' request reading and answer writing (GET /api/v1/reports/queues and
// /reports/agents, docs/openapi.yaml; columns in docs/metrics.md, "Reports"), and the code lists
// of GET /api/v1/me. Pure functions, no Beast: http_server.cc routes and answers.

#include <optional>
#include <string>
#include <string_view>

#include "api/request.h"
#include "ports/reports.h"

namespace parley::api {

struct ReportRequest {
  ports::ReportQuery query;
  bool csv = false;  // ?format=csv, or an Accept header asking for text/csv
};

// Query parameters: from and to (ISO 8601 times with a zone, required), interval (15m, 30m, 1h,
// 1d, 1w, 1mo; default 1h), queue (queue reports) or agent (agent reports): a comma-separated
// list of names, format (json or csv). A bad one is a 400 naming it.
std::optional<ApiError> ReadReportRequest(std::string_view query, std::string_view accept,
                                          ports::ReportSubject subject, ReportRequest& out);

// A port error of a report: kInvalidArgument is the query's fault (400, the message names the
// parameter); the rest as FromStatus.
ApiError ReportError(const Status& s);

// {"subject", "interval", "time_zone", "from", "to", "as_of", "service_level_variant",
//  "columns": [...], "rows": [{column: value}]}: durations in seconds, ratios as fractions 0..1,
// NPS -100..100, null where undefined.
Json ReportJson(const ports::Report& report);

// The same columns as CSV (RFC 4180, CRLF; empty where undefined), and its download name.
std::string ReportCsv(const ports::Report& report);
std::string ReportFilename(const ports::Report& report);

// [{"code", "label"}] for GET /api/v1/me.
Json WorkCodesJson(const std::vector<ports::WorkCode>& codes);

}  // namespace parley::api
