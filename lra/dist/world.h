// The process's world: all ranks of an mpirun (or srun) job, or this process
// alone. MPI is initialised only when a launcher started the process, so a
// plain `lra run` never touches MPI. A binary without the MPI backend
// (world_backend.h: //lra:lra_no_mpi, or //lra built with --define=mpi=off)
// links no MPI at all and refuses to start as one of several ranks.
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

// This process's rank as the launcher announced it (OMPI_COMM_WORLD_RANK,
// PMIX_RANK or PMI_RANK), or 0.
int LauncherRank();

// Whether this binary was linked with MPI (the MPI world backend).
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
