#pragma once
// Structured logs (docs/operations.md, "Logs"): one line per event with its time (UTC), level,
// component, message and the ids it concerns (contact, agent, request, ...), written as text or
// as JSON lines to standard error or a file. One process-wide log, configured once by the
// composition root before threads start; writing is thread-safe and never throws. Secrets
// (passwords, tokens, cookies) are never passed as fields.

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

#include "base/status.h"

namespace parley::log {

enum class Level { kDebug, kInfo, kWarn, kError };
enum class Format { kText, kJson };

struct Options {
  Format format = Format::kText;
  Level level = Level::kInfo;
  std::string file;  // appended to; "" = standard error
};

// "debug", "info", "warn", "error"; kInvalidArgument naming the choices otherwise.
Result<Level> ParseLevel(std::string_view text);
// "text", "json"; kInvalidArgument naming the choices otherwise.
Result<Format> ParseFormat(std::string_view text);

// Replaces the process's log. kUnavailable when the file cannot be opened (the log is then
// unchanged). Until the first call the log is text, level info, on standard error.
Status Configure(const Options& options);

// One field of a log line: an id or a detail, a number or a text (JSON-escaped in JSON lines).
class Field {
 public:
  Field(std::string_view key, std::string_view text) : key_(key), value_(text) {}
  Field(std::string_view key, const std::string& text)
      : key_(key), value_(std::string_view(text)) {}
  Field(std::string_view key, const char* text) : key_(key), value_(std::string_view(text)) {}
  template <std::signed_integral T>
  Field(std::string_view key, T number) : key_(key), value_(static_cast<int64_t>(number)) {}
  template <std::unsigned_integral T>
  Field(std::string_view key, T number) : key_(key), value_(static_cast<uint64_t>(number)) {}
  Field(std::string_view key, bool flag) : key_(key), value_(flag) {}

  std::string_view key() const { return key_; }
  const std::variant<std::string_view, int64_t, uint64_t, bool>& value() const { return value_; }

 private:
  std::string_view key_;
  std::variant<std::string_view, int64_t, uint64_t, bool> value_;
};

bool Enabled(Level level);
void Write(Level level, std::string_view component, std::string_view message,
           std::initializer_list<Field> fields = {});

inline void Debug(std::string_view component, std::string_view message,
                  std::initializer_list<Field> fields = {}) {
  Write(Level::kDebug, component, message, fields);
}
inline void Info(std::string_view component, std::string_view message,
                 std::initializer_list<Field> fields = {}) {
  Write(Level::kInfo, component, message, fields);
}
inline void Warn(std::string_view component, std::string_view message,
                 std::initializer_list<Field> fields = {}) {
  Write(Level::kWarn, component, message, fields);
}
inline void Error(std::string_view component, std::string_view message,
                  std::initializer_list<Field> fields = {}) {
  Write(Level::kError, component, message, fields);
}

// Writes what is buffered (the log flushes every line; this is for the end of a process).
void Flush();

}  // namespace parley::log
