#include "models/tensor.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "absl/strings/str_join.h"

namespace lra {
namespace {

constexpr size_t kAlignment = 64;

float* AllocateAligned(int64_t count) {
  if (count <= 0) return nullptr;
  // aligned_alloc needs a size that is a multiple of the alignment.
  size_t bytes = static_cast<size_t>(count) * sizeof(float);
  bytes = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, bytes);
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, bytes);
  return static_cast<float*>(p);
}

}  // namespace

void Tensor::AlignedFree::operator()(float* p) const { std::free(p); }

Tensor::Tensor(std::vector<int64_t> shape) : shape_(std::move(shape)) {
  size_ = 1;
  for (int64_t d : shape_) size_ *= d;
  data_.reset(AllocateAligned(size_));
}

Tensor::Tensor(const Tensor& other) : shape_(other.shape_), size_(other.size_) {
  data_.reset(AllocateAligned(size_));
  if (size_ > 0) std::memcpy(data_.get(), other.data(), size_ * sizeof(float));
}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this != &other) *this = Tensor(other);
  return *this;
}

void Tensor::Zero() {
  if (size_ > 0) std::memset(data_.get(), 0, size_ * sizeof(float));
}

std::string Tensor::ShapeString() const {
  return "[" + absl::StrJoin(shape_, ", ") + "]";
}

Tensor MakeBuffer(int64_t count) { return Tensor({count}); }

}  // namespace lra
