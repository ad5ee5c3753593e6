// The process's world: all ranks of an mpirun (or srun) job, or this process
// alone. MPI is initialised only when a launcher started the process, so a
// plain `lra run` never touches MPI. A build with --define=mpi=off links no
// MPI at all and refuses to start under a launcher with more than one rank.
#ifndef LRA_DIST_WORLD_H_
#define LRA_DIST_WORLD_H_

#include "absl/status/status.h"
#include "lra/dist/communicator.h"

namespace lra {

// Whether the environment says an MPI launcher started this process
// (OpenMPI's mpirun sets OMPI_COMM_WORLD_SIZE; PMIx and PMI launchers such
// as Slurm's srun set PMIX_RANK or PMI_RANK).
bool LaunchedByMpiLauncher();

// The number of ranks the launcher announced, or 1.
int LauncherWorldSize();

// Whether this binary was built with MPI.
bool BuiltWithMpi();

// Joins the MPI job when a launcher started the process; otherwise the world
// is one rank. Call once, first thing in main.
absl::Status InitWorld(int* argc, char*** argv);

// The world (one rank before InitWorld or without a launcher).
Communicator& World();

// Leaves the MPI job (MPI_Finalize) if InitWorld joined one.
void FinalizeWorld();

// InitWorld/FinalizeWorld for main(): finalizes on every return path.
class ScopedWorld {
 public:
  ScopedWorld(int* argc, char*** argv) : status_(InitWorld(argc, argv)) {}
  ~ScopedWorld() { FinalizeWorld(); }
  ScopedWorld(const ScopedWorld&) = delete;
  ScopedWorld& operator=(const ScopedWorld&) = delete;
  const absl::Status& status() const { return status_; }

 private:
  absl::Status status_;
};

}  // namespace lra

#endif  // LRA_DIST_WORLD_H_
