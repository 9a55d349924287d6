#include "config/yaml_util.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

namespace parley::config {

std::string ConfigError::ToString() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

Position PositionOf(const YAML::Node& node) {
  if (!node.IsDefined()) return {};
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return {};
  return {mark.line + 1, mark.column + 1};
}

std::string PositionText(const YAML::Node& node) {
  const Position p = PositionOf(node);
  return std::to_string(p.line) + ":" + std::to_string(p.column);
}

namespace {

ConfigError ErrorAt(const std::string& file, const YAML::Node& node, std::string message) {
  const Position p = PositionOf(node);
  return {file, p.line, p.column, std::move(message)};
}

// yaml-cpp keeps the last of two equal keys without a word, and ends a quoted scalar that is
// never closed at the end of the file. Both are almost always typing mistakes, so we walk the
// tree and look for them.
class TreeChecker {
 public:
  TreeChecker(std::string_view text, const std::string& file, std::vector<ConfigError>* errors)
      : text_(text), file_(file), errors_(errors) {}

  void Check(const YAML::Node& node, int depth) {
    if (depth > 256) return;  // aliases cannot loop in yaml-cpp, but be safe
    CheckQuote(node);
    if (node.IsMap()) {
      std::map<std::string, YAML::Node> seen;
      for (const auto& kv : node) {
        CheckQuote(kv.first);
        if (kv.first.IsScalar()) {
          auto [it, inserted] = seen.emplace(kv.first.Scalar(), kv.first);
          if (!inserted) {
            errors_->push_back(ErrorAt(file_, kv.first,
                                       "duplicate key '" + kv.first.Scalar() +
                                           "' (first defined at " + PositionText(it->second) +
                                           ")"));
          }
        } else {
          Check(kv.first, depth + 1);
        }
        Check(kv.second, depth + 1);
      }
    } else if (node.IsSequence()) {
      for (const auto& item : node) Check(item, depth + 1);
    }
  }

 private:
  void CheckQuote(const YAML::Node& node) {
    if (!node.IsScalar() || node.Tag() != "!") return;
    const YAML::Mark mark = node.Mark();
    if (mark.is_null() || mark.pos < 0 || static_cast<size_t>(mark.pos) >= text_.size()) return;
    const char quote = text_[mark.pos];
    if (quote != '"' && quote != '\'') return;
    for (size_t i = mark.pos + 1; i < text_.size(); ++i) {
      if (quote == '"' && text_[i] == '\\') {
        ++i;
      } else if (text_[i] == quote) {
        if (quote == '\'' && i + 1 < text_.size() && text_[i + 1] == '\'') {
          ++i;  // '' is an escaped quote inside a single-quoted scalar
          continue;
        }
        return;
      }
    }
    errors_->push_back(ErrorAt(
        file_, node, std::string("unterminated quoted string (missing closing ") + quote + ")"));
  }

  std::string_view text_;
  const std::string& file_;
  std::vector<ConfigError>* errors_;
};

}  // namespace

Result<YAML::Node> LoadYamlText(std::string_view text, const std::string& file,
                                std::vector<ConfigError>* errors) {
  const size_t before = errors->size();
  YAML::Node root;
  try {
    root.reset(YAML::Load(std::string(text)));
  } catch (const YAML::Exception& e) {
    // e.msg is the bare message; e.what() repeats the position.
    errors->push_back({file, e.mark.is_null() ? 0 : e.mark.line + 1,
                       e.mark.is_null() ? 0 : e.mark.column + 1, e.msg});
    return InvalidArgument(file + ": invalid YAML");
  }
  try {
    TreeChecker(text, file, errors).Check(root, 0);
  } catch (const YAML::Exception& e) {
    errors->push_back({file, 0, 0, std::string("internal YAML error: ") + e.what()});
  }
  if (errors->size() != before) return InvalidArgument(file + ": invalid YAML");
  return root;
}

Result<YAML::Node> LoadYamlFile(const std::string& path, std::vector<ConfigError>* errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors->push_back({path, 0, 0, "cannot read file"});
    return NotFound(path + ": cannot read file");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return LoadYamlText(text.str(), path, errors);
}

Result<Duration> ParseDuration(std::string_view text) {
  const auto invalid = [&] {
    return InvalidArgument(
        "invalid duration '" + std::string(text) +
        "'; expected e.g. 20s, 500ms, 5m, 1h, 1h30m, 90d or a number of seconds");
  };
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && s.front() == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  if (s.empty()) return invalid();
  double total_seconds = 0;
  bool plain_number = true;
  while (!s.empty()) {
    size_t n = 0;
    while (n < s.size() && (std::isdigit(static_cast<unsigned char>(s[n])) || s[n] == '.')) ++n;
    if (n == 0) return invalid();
    double value = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + n, value);
    if (ec != std::errc() || ptr != s.data() + n) return invalid();
    s.remove_prefix(n);
    double unit = 1;
    if (s.starts_with("ms")) {
      unit = 0.001;
      s.remove_prefix(2);
    } else if (s.starts_with("s")) {
      s.remove_prefix(1);
    } else if (s.starts_with("m")) {
      unit = 60;
      s.remove_prefix(1);
    } else if (s.starts_with("h")) {
      unit = 3600;
      s.remove_prefix(1);
    } else if (s.starts_with("d")) {
      unit = 86400;
      s.remove_prefix(1);
    } else if (!s.empty() || !plain_number) {
      return invalid();  // a bare number is only allowed alone ("20", not "1m20")
    }
    plain_number = false;
    total_seconds += value * unit;
  }
  // Larger than any sensible configuration (about 30 years) means a typo, and would overflow.
  if (!std::isfinite(total_seconds) || total_seconds > 1e9) return invalid();
  return Seconds(negative ? -total_seconds : total_seconds);
}

namespace {
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Join(const std::vector<std::string_view>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}
}  // namespace

std::string NearestKey(std::string_view key, const std::vector<std::string_view>& known) {
  std::string best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  const std::string lower_key = Lower(key);
  for (const auto& k : known) {
    size_t d = Lower(k) == lower_key ? 0 : EditDistance(lower_key, Lower(k));
    if (d < best_distance) {
      best_distance = d;
      best = std::string(k);
    }
  }
  const size_t limit = key.size() <= 3 ? 1 : 2;
  return best_distance <= limit ? best : std::string();
}

void YamlReader::Error(const YAML::Node& at, std::string message) const {
  errors_->push_back(ErrorAt(file_, at, std::move(message)));
}

bool YamlReader::ExpectMap(const YAML::Node& node, std::string_view what) const {
  if (node.IsMap()) return true;
  Error(node, "expected a map for " + std::string(what));
  return false;
}

bool YamlReader::ExpectSequence(const YAML::Node& node, std::string_view what) const {
  if (node.IsSequence()) return true;
  Error(node, "expected a list for " + std::string(what));
  return false;
}

void YamlReader::CheckKeys(const YAML::Node& map, std::string_view where,
                           const std::vector<std::string_view>& known) const {
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) {
      Error(kv.first, "expected a plain key in " + std::string(where));
      continue;
    }
    const std::string& key = kv.first.Scalar();
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string message = "unknown key '" + key + "' in " + std::string(where);
    const std::string nearest = NearestKey(key, known);
    if (!nearest.empty()) {
      message += "; did you mean '" + nearest + "'?";
    } else {
      message += "; known keys: " + Join(known);
    }
    Error(kv.first, std::move(message));
  }
}

YAML::Node YamlReader::Get(const YAML::Node& map, std::string_view key) {
  if (!map.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  for (const auto& kv : map) {
    if (kv.first.IsScalar() && kv.first.Scalar() == key) return kv.second;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

YAML::Node YamlReader::Require(const YAML::Node& map, std::string_view key,
                               std::string_view where) const {
  YAML::Node value = Get(map, key);
  if (!value.IsDefined()) {
    Error(map, "missing required key '" + std::string(key) + "' in " + std::string(where));
  }
  return value;
}

namespace {
std::string Shown(const YAML::Node& node) {
  if (node.IsScalar()) return "'" + node.Scalar() + "'";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  return "nothing";
}
}  // namespace

std::optional<std::string> YamlReader::String(const YAML::Node& node, std::string_view what) const {
  if (!node.IsScalar()) {
    Error(node, "expected a string for " + std::string(what) + ", got " + Shown(node));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<int64_t> YamlReader::Int(const YAML::Node& node, std::string_view what, int64_t min,
                                       int64_t max) const {
  int64_t value = 0;
  bool ok = node.IsScalar();
  if (ok) {
    const std::string& s = node.Scalar();
    const char* begin = s.data() + (s.starts_with('+') ? 1 : 0);
    const auto [ptr, ec] = std::from_chars(begin, s.data() + s.size(), value);
    ok = !s.empty() && ec == std::errc() && ptr == s.data() + s.size();
  }
  if (!ok) {
    Error(node, "expected an integer for " + std::string(what) + ", got " + Shown(node));
    return std::nullopt;
  }
  if (value < min || value > max) {
    Error(node, std::string(what) + " must be between " + std::to_string(min) + " and " +
                    std::to_string(max) + ", got " + std::to_string(value));
    return std::nullopt;
  }
  return value;
}

std::optional<double> YamlReader::Number(const YAML::Node& node, std::string_view what) const {
  double value = 0;
  bool ok = node.IsScalar();
  if (ok) {
    const std::string& s = node.Scalar();
    const char* begin = s.data() + (s.starts_with('+') ? 1 : 0);
    const auto [ptr, ec] = std::from_chars(begin, s.data() + s.size(), value);
    ok = !s.empty() && ec == std::errc() && ptr == s.data() + s.size() && std::isfinite(value);
  }
  if (!ok) {
    Error(node, "expected a number for " + std::string(what) + ", got " + Shown(node));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> YamlReader::Bool(const YAML::Node& node, std::string_view what) const {
  if (node.IsScalar()) {
    const std::string s = Lower(node.Scalar());
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
  }
  Error(node, "expected true or false for " + std::string(what) + ", got " + Shown(node));
  return std::nullopt;
}

std::optional<Duration> YamlReader::DurationValue(const YAML::Node& node, std::string_view what,
                                                  bool allow_negative) const {
  if (!node.IsScalar()) {
    Error(node, "expected a duration for " + std::string(what) + ", got " + Shown(node));
    return std::nullopt;
  }
  Result<Duration> d = ParseDuration(node.Scalar());
  if (!d.ok()) {
    Error(node, d.status().message() + " for " + std::string(what));
    return std::nullopt;
  }
  if (!allow_negative && d->count() < 0) {
    Error(node, std::string(what) + " must not be negative, got '" + node.Scalar() + "'");
    return std::nullopt;
  }
  return *d;
}

}  // namespace parley::config
