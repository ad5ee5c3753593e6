#include "models/dnnl_context.h"

namespace lra {

const dnnl::engine& DnnlEngine() {
  static const dnnl::engine* engine =
      new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

dnnl::stream& DnnlStream() {
  // One stream per calling thread, so that encoders driven from different
  // threads never share an in-order queue.
  thread_local dnnl::stream* stream = new dnnl::stream(DnnlEngine());
  return *stream;
}

}  // namespace lra
