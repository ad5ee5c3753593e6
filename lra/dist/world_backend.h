// How a build joins an MPI launcher's job. The world (world.h, implemented
// in world_single.cc) is one rank unless a backend is linked in: the MPI one
// (world_mpi.cc, target //lra/dist:world_mpi) registers itself when the
// program starts. Binaries choose by linking it or not, so one build
// configuration holds both `lra` (MPI) and `lra_no_mpi` (no MPI at all).
#ifndef LRA_DIST_WORLD_BACKEND_H_
#define LRA_DIST_WORLD_BACKEND_H_

#include "absl/status/status.h"
#include "lra/dist/communicator.h"

namespace lra {

class WorldBackend {
 public:
  virtual ~WorldBackend() = default;
  // Joins the launcher's job; called once, only when LaunchedByMpiLauncher().
  virtual absl::Status Init(int* argc, char*** argv) = 0;
  // The job's communicator after a successful Init, else nullptr.
  virtual Communicator* Get() = 0;
  // Leaves the job; called once after a successful Init.
  virtual void Finalize() = 0;
};

// Makes `backend` (never deleted) the world's; from a static initializer,
// before main. Returns true, for use as `static const bool registered = ...`.
bool RegisterWorldBackend(WorldBackend* backend);

}  // namespace lra

#endif  // LRA_DIST_WORLD_BACKEND_H_
