// Fuzz harness: configuration YAML. Any text must give a Config or positioned errors, never a
// crash, a hang or an exception.

#include <cstdint>
#include <string_view>
#include <vector>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<parley::config::ConfigError> errors;
  auto result = parley::config::ParseConfigText(text, "fuzz.yaml", {}, &errors);
  if (!result.ok() && errors.empty()) __builtin_trap();  // an error must say what and where
  return 0;
}
