#pragma once
// YAML helpers shared by the configuration parser and the scenario parser (src/sim): reading a
// file with the checks yaml-cpp does not make, 1-based positions, durations, and typed getters
// that record a positioned error instead of throwing. Nothing here throws.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"

namespace parley::config {

// One problem in a configuration file. Positions are 1-based; 0 means unknown.
struct ConfigError {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;

  // "file:line:column: message".
  std::string ToString() const;
  bool operator==(const ConfigError&) const = default;
};

// A 1-based position. yaml-cpp's Mark() is 0-based; an undefined node has no position and
// yields {0, 0}.
struct Position {
  int line = 0;
  int column = 0;
};
Position PositionOf(const YAML::Node& node);
// "line:column" of `node`, for messages that are not ConfigErrors.
std::string PositionText(const YAML::Node& node);

// Parses `text` as one YAML document. On success returns the root (a Null node for an empty
// document). Besides yaml-cpp's syntax errors it reports, as errors naming `file`, a key given
// twice in one map and a quoted string that is never closed. Returns an InvalidArgument status
// when any error was appended to `errors`.
Result<YAML::Node> LoadYamlText(std::string_view text, const std::string& file,
                                std::vector<ConfigError>* errors);
// Reads `path` and calls LoadYamlText; a file that cannot be read is one error (position 0:0).
Result<YAML::Node> LoadYamlFile(const std::string& path, std::vector<ConfigError>* errors);

// Parses a duration: "20s", "500ms", "5m", "1h", "1h30m", "1.5s", or a plain number of seconds
// ("20", "0.25"). A leading '-' gives a negative duration; callers decide whether that is
// allowed. The error message lists the accepted forms.
Result<Duration> ParseDuration(std::string_view text);

// The known key nearest to `key` (edit distance at most 2, or a case-insensitive match), or "".
std::string NearestKey(std::string_view key, const std::vector<std::string_view>& known);

// Reads typed values out of one file's YAML, appending a positioned ConfigError for each
// problem. Not thread-safe; holds a pointer to `errors`, which must outlive it. `what` names the
// value in messages, e.g. "queue 'sales' priority".
class YamlReader {
 public:
  YamlReader(std::string file, std::vector<ConfigError>* errors)
      : file_(std::move(file)), errors_(errors) {}

  const std::string& file() const { return file_; }
  // Appends an error at `at` (position 0:0 when `at` is undefined).
  void Error(const YAML::Node& at, std::string message) const;

  // True when `node` is a map (or sequence); otherwise records "expected a map for <what>".
  bool ExpectMap(const YAML::Node& node, std::string_view what) const;
  bool ExpectSequence(const YAML::Node& node, std::string_view what) const;
  // Records each key of `map` not in `known` ("unknown key 'x' in <where>; did you mean 'y'?").
  // Non-scalar keys are errors too.
  void CheckKeys(const YAML::Node& map, std::string_view where,
                 const std::vector<std::string_view>& known) const;
  // The value of `key` in `map`, or an undefined node (`map` must be a map).
  static YAML::Node Get(const YAML::Node& map, std::string_view key);
  // Like Get, but records "missing required key '<key>' in <where>" at the map's position.
  YAML::Node Require(const YAML::Node& map, std::string_view key, std::string_view where) const;

  // Scalars. Each returns nullopt after recording an error when the value has the wrong type or
  // is outside [min, max].
  std::optional<std::string> String(const YAML::Node& node, std::string_view what) const;
  std::optional<int64_t> Int(const YAML::Node& node, std::string_view what, int64_t min,
                             int64_t max) const;
  std::optional<double> Number(const YAML::Node& node, std::string_view what) const;
  std::optional<bool> Bool(const YAML::Node& node, std::string_view what) const;
  // A duration (see ParseDuration); negative values are errors unless `allow_negative`.
  std::optional<Duration> DurationValue(const YAML::Node& node, std::string_view what,
                                        bool allow_negative = false) const;

 private:
  std::string file_;
  std::vector<ConfigError>* errors_;
};

}  // namespace parley::config
