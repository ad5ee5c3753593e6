// The world: one rank, unless a backend that joins a launcher's job is linked
// in (world_mpi.cc registers the MPI one). A binary without it
// (//lra:lra_no_mpi, or //lra with --define=mpi=off) links no MPI at all and
// refuses to start as one of several ranks of a launcher's job: each would
// train alone and write the same results folder.
#include "absl/strings/str_cat.h"
#include "lra/dist/world.h"
#include "lra/dist/world_backend.h"

namespace lra {
namespace {

WorldBackend*& Backend() {
  static WorldBackend* backend = nullptr;
  return backend;
}

// Whether InitWorld joined a job through the backend.
bool& Joined() {
  static bool joined = false;
  return joined;
}

}  // namespace

bool RegisterWorldBackend(WorldBackend* backend) {
  Backend() = backend;
  return true;
}

bool BuiltWithMpi() { return Backend() != nullptr; }

absl::Status InitWorld(int* argc, char*** argv) {
  if (!LaunchedByMpiLauncher() || Joined()) return absl::OkStatus();
  if (Backend() == nullptr) {
    const int size = LauncherWorldSize();
    if (size > 1 || LauncherRank() > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "started by an MPI launcher as rank ", LauncherRank(), " of ", size,
          ", but this lra was built without MPI (lra_no_mpi, or "
          "--define=mpi=off); use //lra:lra, or run lra without mpirun/srun"));
    }
    return absl::OkStatus();  // A launcher's job of one rank: this process.
  }
  absl::Status status = Backend()->Init(argc, argv);
  if (status.ok()) Joined() = true;
  return status;
}

Communicator& World() {
  if (Joined() && Backend()->Get() != nullptr) return *Backend()->Get();
  return SingleProcess();
}

void FinalizeWorld() {
  if (!Joined()) return;
  Joined() = false;
  Backend()->Finalize();
}

}  // namespace lra
