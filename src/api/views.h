#pragma once
// How the API shows the port's snapshots: JSON objects for REST and the WebSocket snapshot, and
// the Prometheus text for /metrics. Pure functions; thread-safe.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/request.h"
#include "auth/authenticator.h"
#include "auth/tokens.h"
#include "auth/users.h"
#include "ports/contact_center.h"

namespace parley::api {

// "2026-12-02T19:30:00.123Z"; null for TimePoint{}.
nlohmann::json TimeJson(TimePoint t);
// The same text for any time (TimePoint{} is 1970-01-01T00:00:00.000Z); milliseconds floored.
std::string TimeText(TimePoint t);

nlohmann::json AgentJson(const ports::AgentSnapshot& a);
// Exactly AgentJson(a).dump(-1, ' ', false, replace), written directly: the agent reads and
// presence changes answer with it, and building the tree cost more than the rest of a request.
std::string AgentJsonText(const ports::AgentSnapshot& a);
// GET /api/v1/directory's entry: id, name, team, presence, available_for_voice.
nlohmann::json DirectoryJson(const ports::AgentSnapshot& a);
nlohmann::json QueueJson(const ports::QueueSnapshot& q);
nlohmann::json ContactJson(const ports::ContactSnapshot& c);
nlohmann::json UserJson(const auth::UserView& u);
// {"id","name","identities":[{"channel","address"}],"fields":{},"tags":[],"created","updated"}
nlohmann::json CustomerJson(const ports::Customer& c);
nlohmann::json CustomerNoteJson(const ports::CustomerNote& n);
// A contact record as in ContactJson (no disposition, notes or offers: the store keeps none).
nlohmann::json ContactRecordJson(const ports::ContactRecord& r);
nlohmann::json TokenJson(const auth::TokenView& t);

// The counters the HTTP layer keeps, rendered beside the contact center's metrics.
struct HttpMetrics {
  struct RouteCount {
    std::string route;     // "GET /api/v1/agents/{agent}"
    int status_class = 2;  // 1..5
    uint64_t count = 0;
  };
  std::vector<RouteCount> requests;
  std::vector<std::pair<std::string, uint64_t>> bad_requests;  // reason, count
  uint64_t ws_connections = 0;                                 // open now
  uint64_t ws_slow_consumer_closes = 0;
  auth::LoginCounters login;
};

// Prometheus text exposition format 0.0.4.
std::string MetricsText(const ports::MetricsSnapshot& m, const HttpMetrics& http,
                        const std::vector<ports::MetricFamily>& adapters = {});

}  // namespace parley::api
