#include "lra/validate.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace {

absl::StatusOr<Suite> Load(const std::string& name) {
  return LoadSuite(TestWorkspace() + "/lra/testdata/" + name, TestWorkspace());
}

TEST(LoadSuiteTest, ExpandsGridWithFilesAndInlineConfigs) {
  absl::StatusOr<Suite> suite = Load("tiny_suite.pbtxt");
  ASSERT_TRUE(suite.ok()) << suite.status();
  EXPECT_EQ(suite->name, "tiny");
  ASSERT_EQ(suite->runs.size(), 2u);
  // Inline configs come before files, each in the order written.
  EXPECT_EQ(suite->runs[0].id, "listops/wide");
  EXPECT_EQ(suite->runs[1].id, "listops/tiny");
  const RunConfig& run = suite->runs[1].config;
  // Defaults filled from the task and the train defaults.
  EXPECT_EQ(run.model().vocab_size(), 16);
  EXPECT_EQ(run.model().num_classes(), 10);
  EXPECT_EQ(run.train().schedule(), SCHEDULE_CONSTANT);
  EXPECT_FLOAT_EQ(run.train().beta2(), 0.98f);
  EXPECT_EQ(run.task().label(), "listops");
}

// Loading `file` fails with a message holding each of `parts`.
void ExpectRefused(const std::string& file,
                   const std::vector<std::string>& parts) {
  absl::StatusOr<Suite> suite = Load(file);
  ASSERT_FALSE(suite.ok()) << file;
  const std::string message(suite.status().message());
  for (const std::string& part : parts) {
    EXPECT_NE(message.find(part), std::string::npos)
        << "no '" << part << "' in: " << message;
  }
}

TEST(LoadSuiteTest, NegativeBatchNamesFileLineAndField) {
  ExpectRefused("bad_batch_suite.pbtxt",
                {"bad_batch_suite.pbtxt:8", "batch_size = -3",
                 "allowed: an integer > 0"});
}

TEST(LoadSuiteTest, UnknownAttentionListsRegisteredNames) {
  ExpectRefused("bad_attention_suite.pbtxt",
                {"bad_attention_suite.pbtxt:", "no_such_attention", "full"});
}

TEST(LoadSuiteTest, UnknownTaskNamesTheTaskAndAllowedNames) {
  ExpectRefused("bad_task_suite.pbtxt",
                {"bad_task_suite.pbtxt:3", "listopz", "listops"});
}

// Resolved tasks and a one-layer model for the model-against-task checks.
TaskConfig ImageTask() {
  TaskConfig image;
  image.set_name("image");
  image.set_seq_len(576);
  image.mutable_image()->set_image_size(24);
  EXPECT_TRUE(ResolveAndValidateTask(&image, {}).ok());
  return image;
}

TaskConfig TextTask() {
  TaskConfig text;
  text.set_name("text");
  text.set_seq_len(256);
  text.mutable_text()->set_min_length(250);
  text.mutable_text()->set_max_length(256);
  text.mutable_text()->set_num_cues(5);
  const absl::Status status = ResolveAndValidateTask(&text, {});
  EXPECT_TRUE(status.ok()) << status;
  return text;
}

ModelConfig OneLayerModel() {
  ModelConfig model;
  model.set_d_model(16);
  model.set_num_layers(1);
  model.set_num_heads(2);
  return model;
}

// 2-D positions take their row length from an image or pathfinder task; a
// task without one, or a width that does not divide the length, is an error.
TEST(ResolveModelTest, GridWidthComesFromTheTasksImageSize) {
  const TaskConfig image = ImageTask();
  ModelConfig model = OneLayerModel();
  model.set_positional(POSITIONAL_SINUSOIDAL_2D);
  ModelConfig resolved = model;
  absl::Status status = ResolveAndValidateModel(&resolved, image, {});
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(resolved.grid_width(), 24);

  TaskConfig pathfinder;
  pathfinder.set_name("pathfinder");
  pathfinder.set_seq_len(1024);
  pathfinder.mutable_pathfinder()->set_resolution(32);
  ASSERT_TRUE(ResolveAndValidateTask(&pathfinder, {}).ok());
  resolved = model;
  status = ResolveAndValidateModel(&resolved, pathfinder, {});
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(resolved.grid_width(), 32);

  const TaskConfig text = TextTask();
  resolved = model;
  status = ResolveAndValidateModel(&resolved, text, {});
  EXPECT_NE(status.message().find("task 'text' has no image size"),
            std::string::npos)
      << status;
  resolved = model;
  resolved.set_grid_width(10);
  status = ResolveAndValidateModel(&resolved, image, {});
  EXPECT_NE(status.message().find("grid_width = 10"), std::string::npos)
      << status;
  EXPECT_NE(status.message().find("a divisor of 576"), std::string::npos)
      << status;
  resolved = model;
  resolved.set_positional(POSITIONAL_LEARNED);
  resolved.set_grid_width(24);
  status = ResolveAndValidateModel(&resolved, image, {});
  EXPECT_NE(status.message().find("0 unless positional is"), std::string::npos)
      << status;
}

// The ordinal pixel input is for pixel tokens only: text's byte vocabulary
// has the same size (257), so the encoder alone cannot tell.
TEST(ResolveModelTest, PixelIntensityOnlyForPixelTasks) {
  ModelConfig model = OneLayerModel();
  model.set_pixel_intensity(true);
  ModelConfig resolved = model;
  absl::Status status = ResolveAndValidateModel(&resolved, ImageTask(), {});
  EXPECT_TRUE(status.ok()) << status;
  resolved = model;
  status = ResolveAndValidateModel(&resolved, TextTask(), {});
  EXPECT_NE(status.message().find("pixel_intensity = true"), std::string::npos)
      << status;
  EXPECT_NE(status.message().find("only image and pathfinder"),
            std::string::npos)
      << status;
}

}  // namespace
}  // namespace lra
