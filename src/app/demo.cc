#include "app/demo.h"

#include <cstdio>

namespace parley::app {

int RunDemo() {
  std::puts("parley demo: not yet available");
  return 0;
}

}  // namespace parley::app
