// The world of a build without MPI (--define=mpi=off): always one rank.
#include "absl/strings/str_cat.h"
#include "lra/dist/world.h"

namespace lra {

bool BuiltWithMpi() { return false; }

absl::Status InitWorld(int*, char***) {
  const int size = LauncherWorldSize();
  if (LaunchedByMpiLauncher() && size > 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "started by an MPI launcher with ", size,
        " ranks, but this lra was built without MPI (--define=mpi=off); "
        "rebuild without it or run lra without mpirun"));
  }
  return absl::OkStatus();
}

Communicator& World() { return SingleProcess(); }

void FinalizeWorld() {}

}  // namespace lra
