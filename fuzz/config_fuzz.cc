// Fuzz target: configs as `lra run` reads them (config/, lra/validate.h).
// The bytes are parsed as each of the four kinds of file: a suite (loaded
// with the task, model and train files it names, expanded, defaulted and
// validated against the registries), a task, a model and a train config.
// Suites can name the files t.pbtxt (task), m.pbtxt (model) and r.pbtxt
// (train) of the scratch workspace.
#include <cstdlib>
#include <string>

#include "config/suite.h"
#include "config/text_proto.h"
#include "config/validation.h"
#include "fuzz/fuzz_files.h"
#include "lra/validate.h"
#include "proto/config.pb.h"

namespace {

const std::string& Workspace() {
  static const std::string* workspace = [] {
    auto* dir = new std::string(lra::fuzz::ScratchDir() + "/workspace");
    lra::fuzz::MakeDir(*dir);
    lra::fuzz::WriteBytes(*dir + "/t.pbtxt",
                          "name: \"listops\" seq_len: 24 train_size: 64 "
                          "val_size: 16 test_size: 16 data_seed: 7 listops "
                          "{ max_depth: 3 min_args: 2 max_args: 4 "
                          "min_length: 4 max_length: 24 }\n");
    lra::fuzz::WriteBytes(*dir + "/m.pbtxt",
                          "name: \"tiny\" d_model: 16 num_layers: 1 "
                          "num_heads: 2 qkv_dim: 16 mlp_dim: 32 attention { "
                          "name: \"full\" }\n");
    lra::fuzz::WriteBytes(*dir + "/r.pbtxt",
                          "name: \"short\" batch_size: 8 steps: 12 "
                          "learning_rate: 0.003 eval_every: 4 seed: 5\n");
    return dir;
  }();
  return *workspace;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& workspace = Workspace();
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string path = workspace + "/suite.pbtxt";

  lra::fuzz::WriteBytes(path, text);
  auto suite = lra::LoadSuite(path, workspace);
  if (suite.ok()) {
    if (suite->runs.empty()) std::abort();
    for (const auto& run : suite->runs) {
      if (run.id.empty()) std::abort();
      (void)run.task_origin.Where("seq_len");
      (void)run.model_origin.Where("d_model");
      (void)run.train_origin.Where("batch_size");
    }
  }

  auto source = std::make_shared<lra::ConfigSource>();
  lra::TaskConfig task;
  if (lra::ParseTextProto(text, "task.pbtxt", &task, source.get()).ok()) {
    const lra::ConfigOrigin origin{source, ""};
    lra::TaskConfig resolved = task;
    if (lra::ResolveAndValidateTask(&resolved, origin).ok()) {
      lra::ModelConfig model;
      model.set_d_model(16);
      model.set_num_layers(1);
      model.set_num_heads(2);
      model.mutable_attention()->set_name("full");
      (void)lra::ResolveAndValidateModel(&model, resolved, origin);
    }
    (void)source->Locate("seq_len");
  }
  lra::ModelConfig model;
  if (lra::ParseTextProto(text, "model.pbtxt", &model, source.get()).ok()) {
    (void)lra::ResolveAndValidateModelWithoutTask(&model, {source, ""});
    (void)source->Locate("attention.params[0]");
  }
  lra::TrainConfig train;
  if (lra::ParseTextProto(text, "train.pbtxt", &train, source.get()).ok()) {
    lra::ResolveTrainDefaults(&train);
    (void)lra::ValidateTrain(train, {source, ""});
  }
  return 0;
}
