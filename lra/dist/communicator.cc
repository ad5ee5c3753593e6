#include "lra/dist/communicator.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace lra {

absl::Status SingleProcessCommunicator::Broadcast(void*, int64_t, int root) {
  if (root != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("broadcast from rank ", root, " in a world of one rank"));
  }
  return absl::OkStatus();
}

absl::Status SingleProcessCommunicator::AllGather(
    uint64_t value, std::vector<uint64_t>* values) {
  values->assign(1, value);
  return absl::OkStatus();
}

Communicator& SingleProcess() {
  static SingleProcessCommunicator* const single =
      new SingleProcessCommunicator();
  return *single;
}

absl::Status BroadcastString(Communicator& comm, std::string* text, int root) {
  uint64_t length = text->size();
  absl::Status status = comm.Broadcast(&length, sizeof(length), root);
  if (!status.ok()) return status;
  text->resize(length);
  if (length == 0) return absl::OkStatus();
  return comm.Broadcast(text->data(), static_cast<int64_t>(length), root);
}

absl::Status AgreeOnStatus(Communicator& comm, const absl::Status& local) {
  if (comm.size() == 1) return local;
  std::vector<uint64_t> codes;
  absl::Status status = comm.AllGather(
      local.ok() ? 0 : static_cast<uint64_t>(local.code()), &codes);
  if (!status.ok()) return status;
  int failing = -1;
  for (int r = 0; r < static_cast<int>(codes.size()); ++r) {
    if (codes[r] != 0) {
      failing = r;
      break;
    }
  }
  if (failing < 0) return absl::OkStatus();
  std::string message =
      comm.rank() == failing ? std::string(local.message()) : std::string();
  status = BroadcastString(comm, &message, failing);
  if (!status.ok()) return status;
  if (failing != 0) message = absl::StrCat("on rank ", failing, ": ", message);
  return absl::Status(static_cast<absl::StatusCode>(codes[failing]), message);
}

uint64_t HashFloats(const float* data, int64_t count, uint64_t seed) {
  // A multiply-xorshift over 32-bit words; mixes every bit of every float.
  uint64_t h = seed ^ (0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    uint32_t bits;
    std::memcpy(&bits, data + i, sizeof(bits));
    h ^= bits;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
  }
  h ^= h >> 29;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 32;
  return h;
}

absl::Status CheckSameOnAllRanks(Communicator& comm, uint64_t hash,
                                 absl::string_view what) {
  if (comm.size() == 1) return absl::OkStatus();
  std::vector<uint64_t> hashes;
  absl::Status status = comm.AllGather(hash, &hashes);
  if (!status.ok()) return status;
  bool same = true;
  for (uint64_t h : hashes) same = same && h == hashes[0];
  if (same) return absl::OkStatus();
  std::string list;
  for (int r = 0; r < static_cast<int>(hashes.size()); ++r) {
    absl::StrAppendFormat(&list, "%srank %d: %016x", r > 0 ? ", " : "", r,
                          hashes[r]);
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the ranks' ", what, " differ (", list,
      "): data-parallel ranks must stay identical; check that every rank "
      "runs the same lra binary on the same kind of CPU with the same "
      "thread count"));
}

}  // namespace lra
