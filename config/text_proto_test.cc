#include "config/text_proto.h"

#include <string>

#include "gtest/gtest.h"
#include "proto/config.pb.h"

namespace lra {
namespace {

TEST(TextProtoTest, ParseErrorNamesFileLineAndColumn) {
  TrainConfig train;
  absl::Status status =
      ParseTextProto("batch_size: 4\nsteps: \"many\"\n", "x.pbtxt", &train);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(status.message()).find("x.pbtxt:2:"), std::string::npos)
      << status.message();
}

TEST(TextProtoTest, UnknownFieldListsAllowedFields) {
  TrainConfig train;
  absl::Status status =
      ParseTextProto("batch_size: 4\n\nlearning_rat: 0.1\n", "t.pbtxt", &train);
  ASSERT_FALSE(status.ok());
  std::string message(status.message());
  EXPECT_NE(message.find("t.pbtxt:3:"), std::string::npos) << message;
  EXPECT_NE(message.find("learning_rat"), std::string::npos) << message;
  EXPECT_NE(message.find("Allowed fields:"), std::string::npos) << message;
  EXPECT_NE(message.find("learning_rate"), std::string::npos) << message;
}

TEST(TextProtoTest, LocateFindsNestedRepeatedFields) {
  SuiteConfig suite;
  ConfigSource source;
  const std::string text =
      "name: \"s\"\n"                // line 1
      "grid {\n"                     // line 2
      "  train { batch_size: 1 }\n"  // line 3
      "  train {\n"                  // line 4
      "    steps: 3\n"               // line 5
      "    batch_size: -2\n"         // line 6
      "  }\n"
      "}\n";
  ASSERT_TRUE(ParseTextProto(text, "s.pbtxt", &suite, &source).ok());
  EXPECT_EQ(source.Locate("grid[0].train[1].batch_size"), "s.pbtxt:6");
  EXPECT_EQ(source.Locate("grid[0].train[0].batch_size"), "s.pbtxt:3");
  // A field that was not written falls back to its enclosing message.
  EXPECT_EQ(source.Locate("grid[0].train[1].eval_every"), "s.pbtxt:4");
  EXPECT_EQ(source.Locate("name"), "s.pbtxt:1");
}

TEST(TextProtoTest, MissingFileIsNotFoundWithPath) {
  TrainConfig train;
  absl::Status status = LoadTextProto("/nonexistent/dir/t.pbtxt", &train);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(std::string(status.message()).find("/nonexistent/dir/t.pbtxt"),
            std::string::npos);
}

}  // namespace
}  // namespace lra
