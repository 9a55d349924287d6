#include "base/log.h"

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

namespace parley::log {

namespace {

spdlog::level::level_enum ToSpdlog(Level level) {
  switch (level) {
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

// spdlog supplies the time and level; the rest of the line is `%v`, built here. In JSON lines it
// is the members after "time" and "level", serialised by nlohmann_json (a spdlog pattern escapes
// nothing, platform-facts.md).
std::shared_ptr<spdlog::logger> MakeLogger(spdlog::sink_ptr sink, const Options& options) {
  const char* pattern = options.format == Format::kJson
                            ? R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})"
                            : "%Y-%m-%dT%H:%M:%S.%fZ %l %v";
  sink->set_formatter(
      std::make_unique<spdlog::pattern_formatter>(pattern, spdlog::pattern_time_type::utc));
  auto logger = std::make_shared<spdlog::logger>("parley", std::move(sink));
  logger->set_level(ToSpdlog(options.level));
  logger->flush_on(spdlog::level::trace);  // every line: logs are few, and read while running
  return logger;
}

struct State {
  // The lowest level written, read without the lock: the API asks on every request.
  std::atomic<int> level{static_cast<int>(Level::kInfo)};
  std::mutex mu;
  std::shared_ptr<spdlog::logger> logger;  // GUARDED_BY(mu): swapped by Configure
  Format format = Format::kText;           // GUARDED_BY(mu)
};

State& GlobalState() {
  static State* state = [] {
    auto* s = new State;  // never destroyed: threads may log during static destruction
    s->logger = MakeLogger(std::make_shared<spdlog::sinks::stderr_sink_mt>(), Options{});
    return s;
  }();
  return *state;
}

std::pair<std::shared_ptr<spdlog::logger>, Format> Current() {
  State& s = GlobalState();
  std::lock_guard lock(s.mu);
  return {s.logger, s.format};
}

std::string JsonMembers(std::string_view component, std::string_view message,
                        std::initializer_list<Field> fields) {
  nlohmann::ordered_json line;
  line["component"] = component;
  line["message"] = message;
  for (const Field& f : fields) {
    std::visit([&](const auto& v) { line[std::string(f.key())] = v; }, f.value());
  }
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return text.substr(1, text.size() - 2);  // without the braces: the pattern has them
}

std::string TextBody(std::string_view component, std::string_view message,
                     std::initializer_list<Field> fields) {
  std::string text;
  text.append(component).append(": ").append(message);
  for (const Field& f : fields) {
    text.append(" ").append(f.key()).append("=");
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string_view>) {
            // Quoted when it would otherwise read as several fields.
            if (v.empty() || v.find_first_of(" =\"\n") != std::string_view::npos) {
              text.append(
                  nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
            } else {
              text.append(v);
            }
          } else if constexpr (std::is_same_v<T, bool>) {
            text.append(v ? "true" : "false");
          } else {
            text.append(std::to_string(v));
          }
        },
        f.value());
  }
  return text;
}

}  // namespace

Result<Level> ParseLevel(std::string_view text) {
  if (text == "debug") return Level::kDebug;
  if (text == "info") return Level::kInfo;
  if (text == "warn") return Level::kWarn;
  if (text == "error") return Level::kError;
  return InvalidArgument("log level '" + std::string(text) +
                         "': expected debug, info, warn or error");
}

Result<Format> ParseFormat(std::string_view text) {
  if (text == "text") return Format::kText;
  if (text == "json") return Format::kJson;
  return InvalidArgument("log format '" + std::string(text) + "': expected text or json");
}

Status Configure(const Options& options) {
  spdlog::sink_ptr sink;
  if (options.file.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    try {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file, /*truncate=*/false);
    } catch (const std::exception& e) {
      return Unavailable("log file " + options.file + ": " + e.what());
    }
  }
  auto logger = MakeLogger(std::move(sink), options);
  State& s = GlobalState();
  std::lock_guard lock(s.mu);
  s.logger = std::move(logger);
  s.format = options.format;
  s.level.store(static_cast<int>(options.level), std::memory_order_relaxed);
  return Status::Ok();
}

bool Enabled(Level level) {
  return static_cast<int>(level) >= GlobalState().level.load(std::memory_order_relaxed);
}

void Write(Level level, std::string_view component, std::string_view message,
           std::initializer_list<Field> fields) {
  if (!Enabled(level)) return;
  auto [logger, format] = Current();
  const auto spd_level = ToSpdlog(level);
  if (!logger->should_log(spd_level)) return;
  try {
    const std::string body = format == Format::kJson ? JsonMembers(component, message, fields)
                                                     : TextBody(component, message, fields);
    logger->log(spd_level, std::string_view(body));
  } catch (...) {
    // A log line that cannot be written (disk full, allocation) is dropped, never thrown.
  }
}

void Flush() { Current().first->flush(); }

}  // namespace parley::log
