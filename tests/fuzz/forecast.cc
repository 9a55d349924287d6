// Fuzz harness: forecast CSV for `parley staff --forecast`.

#include <cstdint>
#include <string_view>

#include "wfm/forecast.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto result = parley::wfm::ParseForecastCsv(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!result.ok() && result.status().message().empty()) __builtin_trap();
  return 0;
}
