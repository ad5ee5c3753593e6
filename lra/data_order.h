// The order in which training visits its examples: a fresh permutation per
// epoch, optionally bucketed by length, always a pure function of (seed,
// epoch), so any step's batch can be recomputed after a resume.
#ifndef LRA_DATA_ORDER_H_
#define LRA_DATA_ORDER_H_

#include <cstdint>
#include <vector>

namespace lra {

// splitmix64: a tiny, well-mixed generator whose output is the same on every
// platform (std:: distributions are not).
uint64_t Mix64(uint64_t x);

class DataOrder {
 public:
  // Uniform shuffling: epoch e visits a permutation drawn from (seed, e).
  DataOrder(int64_t size, uint64_t seed);

  // Length-bucketed (TrainConfig.length_bucket_batches): the epoch's
  // permutation is cut into windows of `window_batches` batches of
  // `batch_size`; each window is sorted by `lengths` (real tokens of each
  // example; ties keep the permutation's order), cut into batches, and its
  // batches shuffled (seed, epoch, window). A batch then holds examples of
  // similar length, and the windows keep the epoch's order random. Windows
  // follow the batches of the endless position stream (step * batch_size),
  // so an epoch whose start falls inside a batch leaves that batch's
  // examples as drawn; a batch cut short by the epoch's end is sorted but
  // stays last.
  DataOrder(std::vector<int> lengths, uint64_t seed, int batch_size,
            int window_batches);

  // The example at `position` of the endless sequence of epochs.
  int64_t Index(int64_t position);

 private:
  void Shuffle(int64_t epoch);
  void Bucket(int64_t epoch);

  uint64_t seed_;
  int64_t epoch_ = -1;
  std::vector<int64_t> perm_;
  std::vector<int> lengths_;  // Empty: no bucketing.
  int batch_size_ = 1;
  int window_batches_ = 0;
};

}  // namespace lra

#endif  // LRA_DATA_ORDER_H_
