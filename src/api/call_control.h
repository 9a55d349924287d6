#pragma once
// Request bodies of the call-control routes (docs/voice.md, "Call control"; docs/openapi.yaml):
// POST /api/v1/contacts/{id}/mute {"muted": bool} and /dtmf {"digits": "123#"}. Hold, resume
// and hang-up take an empty body (ReadEmpty).

#include <optional>
#include <string>

#include "api/request.h"
#include "ports/contact_center.h"
#include "ports/media_plane.h"

namespace parley::api {

// {"muted": true|false}, required.
std::optional<ApiError> ReadMute(const Json& body, bool& muted);
// {"digits": "..."}: 1 to 64 of 0-9 * # A-D (lower-case a-d are taken as upper case).
std::optional<ApiError> ReadDigits(const Json& body, std::string& digits);
// {"mode": "listen" | "whisper" | "barge" | "stop"}, required; "stop" gives no mode.
std::optional<ApiError> ReadMonitorMode(const Json& body, std::optional<ports::MonitorMode>& mode);
// Exactly one of {"agent": "..."} (the agent a consultation rings) and {"queue": "..."} (the
// queue whose free member it rings) (POST .../consult); `queue` says which was given.
std::optional<ApiError> ReadConsult(const Json& body, std::string& target, bool& queue);
// Click-to-dial (POST /api/v1/calls): {"number": "+44...", "queue": "...", "agent": "..."};
// number and queue required, agent optional (the caller's own agent).
std::optional<ApiError> ReadPlaceCall(const Json& body, ports::OutboundCall& call);

}  // namespace parley::api
