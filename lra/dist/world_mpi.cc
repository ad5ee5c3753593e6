// The MPI backend of the world (world_backend.h): linked into //lra:lra, it
// registers itself before main, and InitWorld joins the job of the mpirun or
// srun that started the process.
#include <mpi.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "lra/dist/mpi_communicator.h"
#include "lra/dist/world_backend.h"

namespace lra {
namespace {

class MpiBackend : public WorldBackend {
 public:
  absl::Status Init(int* argc, char*** argv) override {
    // One thread at a time calls MPI: the main thread, or the thread that
    // sums gradient buckets during the backward pass while the main thread
    // makes no MPI call (BackgroundAllReduce); OpenMP threads never do.
    // OpenMPI 4.1 grants it (`ompi_info`: MPI_THREAD_MULTIPLE: yes); with a
    // lower level the buckets are summed after the backward pass instead
    // (MpiCommunicator::CallableFromAnyThread).
    int provided = 0;
    const int code =
        MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided);
    if (code != MPI_SUCCESS) {
      return absl::UnavailableError(
          absl::StrCat("MPI_Init_thread failed with code ", code));
    }
    world_ = std::make_unique<MpiCommunicator>();
    return absl::OkStatus();
  }

  Communicator* Get() override { return world_.get(); }

  void Finalize() override {
    world_.reset();
    MPI_Finalize();
  }

 private:
  std::unique_ptr<MpiCommunicator> world_;
};

const bool registered = RegisterWorldBackend(new MpiBackend());

}  // namespace
}  // namespace lra
