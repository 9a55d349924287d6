#pragma once

// Names the calling thread as `top -H`, `ps -L` and perf show it (Linux keeps 15 characters).

#include <pthread.h>

#include <string>
#include <string_view>

namespace parley {

inline void NameThisThread(std::string_view name) {
  const std::string shortened(name.substr(0, 15));
  pthread_setname_np(pthread_self(), shortened.c_str());
}

}  // namespace parley
