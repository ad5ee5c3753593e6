#include "util/cpu.h"

#include <unistd.h>

#include <algorithm>

namespace lra {

int OnlineCores() {
  return std::max(1, static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)));
}

int ThreadsOrAllCores(int threads) {
  return threads > 0 ? threads : OnlineCores();
}

}  // namespace lra
