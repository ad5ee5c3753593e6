// The world of the default build: MPI when a launcher started the process.
#include <mpi.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "lra/dist/mpi_communicator.h"
#include "lra/dist/world.h"

namespace lra {
namespace {

std::unique_ptr<MpiCommunicator>& MpiWorld() {
  static auto* world = new std::unique_ptr<MpiCommunicator>();
  return *world;
}

}  // namespace

bool BuiltWithMpi() { return true; }

absl::Status InitWorld(int* argc, char*** argv) {
  if (!LaunchedByMpiLauncher() || MpiWorld() != nullptr) {
    return absl::OkStatus();
  }
  // Only the main thread calls MPI; OpenMP threads never do.
  int provided = 0;
  const int code = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  if (code != MPI_SUCCESS) {
    return absl::UnavailableError(
        absl::StrCat("MPI_Init_thread failed with code ", code));
  }
  MpiWorld() = std::make_unique<MpiCommunicator>();
  return absl::OkStatus();
}

Communicator& World() {
  if (MpiWorld() != nullptr) return *MpiWorld();
  return SingleProcess();
}

void FinalizeWorld() {
  if (MpiWorld() == nullptr) return;
  MpiWorld().reset();
  MPI_Finalize();
}

}  // namespace lra
