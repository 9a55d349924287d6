#include "base/text.h"

#include <date/date.h>

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <sstream>
#include <string>

namespace parley {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::optional<double> ParseFiniteNumber(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return std::nullopt;
  double v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

bool ParseFiniteNumber(std::string_view text, double* out) {
  const std::optional<double> v = ParseFiniteNumber(text);
  if (v) *out = *v;
  return v.has_value();
}

namespace {

// Parses all of `text` with `format`; the stream must be used up.
template <typename T>
bool ParseWhole(const std::string& text, const char* format, T& out, std::chrono::minutes* offset) {
  std::istringstream in(text);
  if (offset) {
    in >> date::parse(format, out, *offset);
  } else {
    in >> date::parse(format, out);
  }
  return !in.fail() && in.peek() == std::char_traits<char>::eof();
}

}  // namespace

std::optional<TimePoint> ParseIsoDateTime(std::string_view text) {
  std::string s(Trim(text));
  // Two-digit fields in place (date::parse alone would also take "T8:30").
  if (s.size() < 16 || s[4] != '-' || s[7] != '-' || s[13] != ':') return std::nullopt;
  if (s[10] == ' ') s[10] = 'T';
  if (!s.empty() && s.back() == 'Z') {
    s.pop_back();
    s += "+00:00";
  }
  // With seconds (and fractions) or without; with an offset (+HH:MM or +HHMM) or without.
  static constexpr std::array<const char*, 4> kWithOffset = {"%FT%T%Ez", "%FT%T%z", "%FT%R%Ez",
                                                             "%FT%R%z"};
  static constexpr std::array<const char*, 2> kLocal = {"%FT%T", "%FT%R"};
  for (const char* f : kWithOffset) {
    date::sys_time<Duration> t;
    std::chrono::minutes offset{0};
    if (ParseWhole(s, f, t, &offset)) return TimePoint(t.time_since_epoch());
  }
  for (const char* f : kLocal) {
    date::sys_time<Duration> t;
    if (ParseWhole(s, f, t, nullptr)) return TimePoint(t.time_since_epoch());
  }
  return std::nullopt;
}

std::optional<Duration> ParseTimeOfDay(std::string_view text) {
  // As a time on a fixed day, so that date::parse checks the hour and minute ranges.
  const std::string_view t = Trim(text);
  if (t.empty() || !std::isdigit(static_cast<unsigned char>(t.front())) || t.size() < 5 ||
      t[2] != ':' || t.find_first_of("+-Z") != std::string_view::npos) {
    return std::nullopt;
  }
  const std::optional<TimePoint> at = ParseIsoDateTime("1970-01-01T" + std::string(t));
  if (!at) return std::nullopt;
  return at->time_since_epoch();
}

}  // namespace parley
