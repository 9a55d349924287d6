// Fuzz harness: distribution specs ("exp:180", "lognormal:180,90", ...) and sample lists.

#include <cstdint>
#include <string_view>

#include "base/random.h"
#include "traffic/distribution.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto d = parley::traffic::ParseDistribution(text);
  if (d.ok()) {
    parley::Random r(1);
    for (int i = 0; i < 4; ++i) (void)d->Sample(r);
  }
  (void)parley::traffic::ParseSamples(text);
  return 0;
}
