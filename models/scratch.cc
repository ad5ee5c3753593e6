#include "models/scratch.h"

#include <utility>

namespace lra {

float* ScratchRef::data() const { return owner_->buffers_[index_].data(); }

ScratchRef ScratchBuffers::Reserve(const std::string& name, int64_t floats) {
  auto [it, inserted] = index_.emplace(name, static_cast<int>(buffers_.size()));
  if (inserted) {
    buffers_.emplace_back(std::vector<int64_t>{floats});
  } else if (buffers_[it->second].size() < floats) {
    buffers_[it->second] = Tensor({floats});
  }
  return ScratchRef(this, it->second);
}

int64_t ScratchBuffers::TotalFloats() const {
  int64_t total = 0;
  for (const Tensor& t : buffers_) total += t.size();
  return total;
}

}  // namespace lra
