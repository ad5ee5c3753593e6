// Checks the world's collectives over real processes: run it under
// `mpirun -np P` (lra/dist/mpi_test.sh does, with P = 2 and 3). Every rank
// builds every rank's input from a seed, so each can check the result
// itself: the sum is the same bits on every rank and, for a power-of-two P,
// the bits of TreeSum over the ranks' buffers. Exits 0 when all checks pass.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lra/dist/communicator.h"
#include "lra/dist/tree_reduce.h"
#include "lra/dist/world.h"

namespace lra {
namespace {

int failures = 0;

void Check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "rank %d: FAILED: %s\n", World().rank(), what.c_str());
    ++failures;
  }
}

std::vector<float> RankInput(int rank, int count) {
  std::vector<float> data(count);
  uint64_t state = 0x1234u + 977u * rank;
  for (float& x : data) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const int exponent = static_cast<int>((state >> 33) % 25) - 12;
    const float mantissa = static_cast<float>((state >> 40) % 2001) / 1000 - 1;
    x = std::ldexp(mantissa, exponent);
  }
  return data;
}

int Main() {
  Communicator& comm = World();
  const int rank = comm.rank(), size = comm.size();
  std::fprintf(stderr, "rank %d of %d (built with MPI: %s)\n", rank, size,
               BuiltWithMpi() ? "yes" : "no");
  Check(size == LauncherWorldSize(), "size matches the launcher's");

  for (int count : {0, 1, 5, 1000, 100003}) {
    std::vector<float> data = RankInput(rank, count);
    Check(comm.AllReduceSum(data.data(), count).ok(), "AllReduceSum");
    uint64_t hash = HashFloats(data.data(), count, 0);
    Check(CheckSameOnAllRanks(comm, hash, "sums").ok(),
          absl::StrCat("same sum on every rank, count ", count));
    if (FloorPowerOfTwo(size) == size) {
      TreeSum tree(count, size);
      std::vector<float> want(count);
      tree.Sum(
          [&](int leaf, float* out) {
            std::vector<float> input = RankInput(leaf, count);
            if (count > 0) std::memcpy(out, input.data(), count * 4);
          },
          want.data());
      Check(count == 0 || std::memcmp(want.data(), data.data(), count * 4) == 0,
            absl::StrCat("sum is TreeSum's bits, count ", count));
    }
  }

  std::vector<double> slots(size * 2, 0.0);
  slots[rank * 2] = 0.1 * (rank + 1);
  slots[rank * 2 + 1] = rank;
  Check(comm.AllReduceSum(slots.data(), slots.size()).ok(), "doubles");
  for (int r = 0; r < size; ++r) {
    Check(slots[r * 2] == 0.1 * (r + 1) && slots[r * 2 + 1] == r,
          "one contributor per slot is exact");
  }

  std::string text = rank == 0 ? "hello from rank 0" : "";
  Check(BroadcastString(comm, &text, 0).ok() && text == "hello from rank 0",
        "broadcast");
  std::vector<uint64_t> ranks;
  Check(comm.AllGather(rank * 3, &ranks).ok(), "allgather");
  for (int r = 0; r < size; ++r) Check(ranks[r] == uint64_t(r) * 3, "gathered");

  const absl::Status agreed =
      AgreeOnStatus(comm, rank == size - 1 ? absl::DataLossError("bad file")
                                           : absl::OkStatus());
  Check(agreed.code() == absl::StatusCode::kDataLoss, "agreed error code");
  if (size > 1) {
    Check(agreed.message() == absl::StrCat("on rank ", size - 1, ": bad file"),
          absl::StrCat("agreed message: ", agreed.message()));
    Check(!CheckSameOnAllRanks(comm, rank, "ranks").ok(),
          "different hashes are caught");
  }
  Check(comm.Barrier().ok(), "barrier");

  // Every rank's verdict, so that all exit alike.
  const absl::Status all =
      AgreeOnStatus(comm, failures == 0 ? absl::OkStatus()
                                        : absl::InternalError("checks failed"));
  if (rank == 0) {
    std::fprintf(stderr, "%s: collectives over %d rank(s)\n",
                 all.ok() ? "PASS" : "FAIL", size);
  }
  return all.ok() ? 0 : 1;
}

}  // namespace
}  // namespace lra

int main(int argc, char** argv) {
  lra::ScopedWorld world(&argc, &argv);
  if (!world.status().ok()) {
    std::fprintf(stderr, "%s\n", std::string(world.status().message()).c_str());
    return 2;
  }
  return lra::Main();
}
