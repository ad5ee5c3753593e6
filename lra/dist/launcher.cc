// What the environment says about an MPI launcher; shared by both builds.
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "lra/dist/world.h"

namespace lra {

bool LaunchedByMpiLauncher() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

int LauncherWorldSize() {
  for (const char* name :
       {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"}) {
    const char* text = std::getenv(name);
    int size = 0;
    if (text != nullptr && absl::SimpleAtoi(text, &size) && size > 0) {
      return size;
    }
  }
  return 1;
}

int LauncherRank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"}) {
    const char* text = std::getenv(name);
    int rank = 0;
    if (text != nullptr && absl::SimpleAtoi(text, &rank) && rank > 0) {
      return rank;
    }
  }
  return 0;
}

}  // namespace lra
