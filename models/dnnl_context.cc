#include "models/dnnl_context.h"

#include <memory>

namespace lra {

const dnnl::engine& DnnlEngine() {
  static const dnnl::engine* engine =
      new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

dnnl::stream& DnnlStream() {
  // One stream per calling thread, so that encoders driven from different
  // threads never share an in-order queue. Owned by the thread: a thread
  // that exits (a rank thread of the threaded communicator) frees its
  // stream. The engine outlives every stream (it is never freed).
  thread_local std::unique_ptr<dnnl::stream> stream =
      std::make_unique<dnnl::stream>(DnnlEngine());
  return *stream;
}

}  // namespace lra
