#include "flow/steps.h"

#include <charconv>

namespace parley::flow {

const std::vector<StepType>& StepTable() {
  static const std::vector<StepType> kTable = {
      {"play", StepKind::kPlay, {"prompt"}, {"next"}, {"next"}, false},
      {"menu",
       StepKind::kMenu,
       {"prompt", "options", "timeout", "retries", "no_input_prompt", "invalid_prompt"},
       {"failure"},
       {"failure"},
       true},
      {"collect",
       StepKind::kCollect,
       {"prompt", "into", "min_length", "max_length", "terminator", "pattern", "timeout", "retries",
        "no_input_prompt", "invalid_prompt"},
       {"next", "failure"},
       {"next", "failure"},
       true},
      {"say", StepKind::kSay, {"text", "prompt"}, {"next"}, {"next"}, false},
      {"ask",
       StepKind::kAsk,
       {"text", "prompt", "buttons", "into", "timeout", "retries", "no_input_prompt",
        "invalid_prompt"},
       {"next", "failure"},
       {"next", "failure"},
       true},
      {"set", StepKind::kSet, {"values"}, {"next"}, {"next"}, false},
      {"branch", StepKind::kBranch, {"queue", "cases"}, {"default"}, {"default"}, false},
      {"hours",
       StepKind::kHours,
       {"schedule"},
       {"open", "closed", "holiday"},
       {"open", "closed"},
       false},
      {"lookup",
       StepKind::kLookup,
       {"url", "method", "timeout", "send", "store", "store_prefix"},
       {"next", "failure"},
       {"next", "failure"},
       true},
      {"queue",
       StepKind::kQueue,
       {"queue", "priority", "skills", "music", "announce_every", "announce", "max_wait", "offers"},
       {"timeout", "voicemail", "callback"},
       {},
       true},
      {"transfer", StepKind::kTransfer, {"to"}, {}, {}, false},
      {"voicemail", StepKind::kVoicemail, {"mailbox", "prompt", "max_length"}, {}, {}, false},
      {"callback", StepKind::kCallback, {"queue", "keep_position"}, {"next"}, {"next"}, false},
      {"survey", StepKind::kSurvey, {"questions", "timeout"}, {"next"}, {"next"}, true},
      {"call", StepKind::kCall, {"flow"}, {"next"}, {"next"}, false},
      {"return", StepKind::kReturn, {}, {}, {}, false},
      {"hangup", StepKind::kHangup, {}, {}, {}, false},
      {"end", StepKind::kHangup, {}, {}, {}, false},
  };
  return kTable;
}

const StepType* FindStepType(std::string_view name) {
  for (const auto& t : StepTable()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::string_view StepKindName(StepKind kind) {
  for (const auto& t : StepTable()) {
    if (t.kind == kind) return t.name;
  }
  return "?";
}

std::optional<Duration> ParseFlowDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double plain = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), plain);
  if (ec == std::errc() && p == text.data() + text.size()) {
    return plain < 0 ? std::nullopt : std::optional<Duration>(Seconds(plain));
  }
  Duration total{0};
  size_t i = 0;
  while (i < text.size()) {
    double n = 0;
    auto [q, e] = std::from_chars(text.data() + i, text.data() + text.size(), n);
    if (e != std::errc() || n < 0) return std::nullopt;
    i = static_cast<size_t>(q - text.data());
    const std::string_view rest = text.substr(i);
    if (rest.starts_with("ms")) {
      total += Seconds(n / 1000);
      i += 2;
    } else if (rest.starts_with("s")) {
      total += Seconds(n);
      i += 1;
    } else if (rest.starts_with("m")) {
      total += Seconds(n * 60);
      i += 1;
    } else if (rest.starts_with("h")) {
      total += Seconds(n * 3600);
      i += 1;
    } else {
      return std::nullopt;
    }
  }
  return total;
}

}  // namespace parley::flow
