#include "lra/data_order.h"

#include <algorithm>
#include <numeric>
#include <utility>

namespace lra {

uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

DataOrder::DataOrder(int64_t size, uint64_t seed) : seed_(seed), perm_(size) {}

DataOrder::DataOrder(std::vector<int> lengths, uint64_t seed, int batch_size,
                     int window_batches)
    : seed_(seed),
      perm_(lengths.size()),
      lengths_(std::move(lengths)),
      batch_size_(std::max(1, batch_size)),
      window_batches_(window_batches) {}

int64_t DataOrder::Index(int64_t position) {
  const int64_t size = perm_.size();
  const int64_t epoch = position / size;
  if (epoch != epoch_) {
    Shuffle(epoch);
    if (!lengths_.empty() && window_batches_ > 0) Bucket(epoch);
    epoch_ = epoch;
  }
  return perm_[position % size];
}

void DataOrder::Shuffle(int64_t epoch) {
  std::iota(perm_.begin(), perm_.end(), 0);
  uint64_t state = Mix64(seed_ ^ Mix64(static_cast<uint64_t>(epoch) + 1));
  for (int64_t i = static_cast<int64_t>(perm_.size()) - 1; i > 0; --i) {
    state = Mix64(state);
    int64_t j = static_cast<int64_t>(state % static_cast<uint64_t>(i + 1));
    std::swap(perm_[i], perm_[j]);
  }
}

void DataOrder::Bucket(int64_t epoch) {
  const int64_t size = perm_.size();
  const int64_t window = int64_t{window_batches_} * batch_size_;
  // Batches are cut at multiples of batch_size of the endless position
  // stream; when the epoch does not start on one, its first `offset`
  // examples finish the batch the previous epoch began and stay as drawn.
  const int64_t epoch_start = epoch * size;
  const int64_t offset =
      (batch_size_ - epoch_start % batch_size_) % batch_size_;
  std::vector<int64_t> batch_starts;
  std::vector<int64_t> sorted;
  for (int64_t start = std::min(offset, size), w = 0; start < size;
       start += window, ++w) {
    const int64_t end = std::min(size, start + window);
    std::stable_sort(
        perm_.begin() + start, perm_.begin() + end,
        [this](int64_t a, int64_t b) { return lengths_[a] < lengths_[b]; });
    // Full batches of the window in a shuffled order; a partial batch
    // (only at the epoch's end) stays last so that it still begins a batch.
    const int64_t full = (end - start) / batch_size_;
    batch_starts.resize(full);
    for (int64_t b = 0; b < full; ++b) {
      batch_starts[b] = start + b * batch_size_;
    }
    uint64_t state =
        Mix64(seed_ ^ Mix64(Mix64(static_cast<uint64_t>(epoch) + 1) ^
                            Mix64(static_cast<uint64_t>(w) + 0x6275636bULL)));
    for (int64_t i = full - 1; i > 0; --i) {
      state = Mix64(state);
      int64_t j = static_cast<int64_t>(state % static_cast<uint64_t>(i + 1));
      std::swap(batch_starts[i], batch_starts[j]);
    }
    sorted.assign(perm_.begin() + start, perm_.begin() + end);
    for (int64_t b = 0; b < full; ++b) {
      std::copy(sorted.begin() + (batch_starts[b] - start),
                sorted.begin() + (batch_starts[b] - start) + batch_size_,
                perm_.begin() + start + b * batch_size_);
    }
  }
}

}  // namespace lra
