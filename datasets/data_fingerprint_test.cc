// Pins the generated data of every task: the train, val and test examples
// (tokens and labels) of each checked-in task config, plus the two tasks
// without one at their defaults, at two data seeds and two split sizes, are
// hashed and compared with hashes recorded before the datasets/ packages
// were reorganised. Any change to a generator, a storage class or a loader
// that alters one token fails here; a deliberate change of the data must
// record new hashes (run with --test_arg=--print to get the table).
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "datasets/dataset.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace lra {
namespace {

bool print_hashes = false;

// FNV-1a over 64 bits, fed 32-bit values little-endian.
class Hasher {
 public:
  void Add(uint32_t value) {
    for (int b = 0; b < 4; ++b) {
      hash_ ^= (value >> (8 * b)) & 0xff;
      hash_ *= 0x100000001b3ULL;
    }
  }
  uint64_t hash() const { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

// Shape, labels and every token of every example of a split.
uint64_t HashDataset(const Dataset& dataset) {
  Hasher hasher;
  hasher.Add(static_cast<uint32_t>(dataset.size()));
  hasher.Add(dataset.seq_len());
  hasher.Add(dataset.vocab_size());
  hasher.Add(dataset.num_classes());
  hasher.Add(dataset.num_segments());
  std::vector<int32_t> tokens(dataset.seq_len());  // [seq_len]
  for (int64_t i = 0; i < dataset.size(); ++i) {
    hasher.Add(dataset.Get(i, tokens.data()));
    for (int32_t id : tokens) hasher.Add(static_cast<uint32_t>(id));
  }
  return hasher.hash();
}

TaskConfig ReadTask(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  TaskConfig task;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text.str(), &task))
      << path;
  return task;
}

// The stand-in configs of configs/tasks/ and the default recall and
// brackets tasks at their defaults, and cross_segment at its config.
std::map<std::string, TaskConfig> BaseTasks() {
  std::map<std::string, TaskConfig> tasks;
  for (const char* name :
       {"image", "listops", "pathfinder", "pathx", "retrieval", "text"}) {
    tasks[name] = ReadTask(absl::StrCat("configs/tasks/", name, ".pbtxt"));
  }
  // Nothing is written outside the test.
  tasks["pathfinder"].mutable_pathfinder()->clear_cache_dir();
  tasks["pathx"].mutable_pathfinder()->clear_cache_dir();
  tasks["recall"].set_name("recall");
  tasks["brackets"].set_name("brackets");
  tasks["cross_segment"].set_name("cross_segment");
  return tasks;
}

// The official-file loaders at one sample file.
TaskConfig ListOpsTsvTask() {
  TaskConfig task;
  task.set_name("listops");
  task.set_train_size(20);
  task.set_val_size(10);
  task.set_test_size(5);
  const std::string tsv = "datasets/listops/testdata/basic_sample.tsv";
  task.mutable_listops()->set_train_tsv(tsv);
  task.mutable_listops()->set_val_tsv(tsv);
  task.mutable_listops()->set_test_tsv(tsv);
  return task;
}

// Recorded with the code of commit b8a9388 (before datasets/common/).
const std::map<std::string, std::string>& Expected() {
  static const auto* expected = new std::map<std::string, std::string>{
      {"brackets/seed1/size20/train", "7b0051555b247011"},
      {"brackets/seed1/size20/val", "2deb275dd1c21d2d"},
      {"brackets/seed1/size20/test", "f84a5d00e012e3ea"},
      {"brackets/seed1/size8/train", "ecaa483f11956a7a"},
      {"brackets/seed1/size8/val", "2b38b3b87fea2ba0"},
      {"brackets/seed1/size8/test", "e572052fcc7c6cd6"},
      {"brackets/seed20260105/size20/train", "5aee06b2476173f3"},
      {"brackets/seed20260105/size20/val", "f678c469d0fcb7e9"},
      {"brackets/seed20260105/size20/test", "427b7db6199572ec"},
      {"brackets/seed20260105/size8/train", "f0c95aea96c82468"},
      {"brackets/seed20260105/size8/val", "133b9118e174b231"},
      {"brackets/seed20260105/size8/test", "bbb1f49c10ac2c42"},
      {"cross_segment/seed1/size20/train", "c718c4f739cdc5e8"},
      {"cross_segment/seed1/size20/val", "968d44495805ec65"},
      {"cross_segment/seed1/size20/test", "0a59f551722c78ec"},
      {"cross_segment/seed1/size8/train", "f5c13c8eae6ba382"},
      {"cross_segment/seed1/size8/val", "a88eab92676c974a"},
      {"cross_segment/seed1/size8/test", "4d39d7e25323081f"},
      {"cross_segment/seed20260105/size20/train", "00113c0c76f743b4"},
      {"cross_segment/seed20260105/size20/val", "e8784398c65d054f"},
      {"cross_segment/seed20260105/size20/test", "f4f684fee3c04f29"},
      {"cross_segment/seed20260105/size8/train", "194262b7f9db5efc"},
      {"cross_segment/seed20260105/size8/val", "acca14c04b19c1c0"},
      {"cross_segment/seed20260105/size8/test", "65810901a05be5cf"},
      {"image/seed1/size20/train", "d7549bead670978d"},
      {"image/seed1/size20/val", "a28fb275f5c8d886"},
      {"image/seed1/size20/test", "75821ac9dce1333b"},
      {"image/seed1/size8/train", "e0c96e371b059cd1"},
      {"image/seed1/size8/val", "c0f05ed36829658a"},
      {"image/seed1/size8/test", "d412e3217c8926fa"},
      {"image/seed20260105/size20/train", "748c5097c8d0d8ba"},
      {"image/seed20260105/size20/val", "6136bd085e008785"},
      {"image/seed20260105/size20/test", "d9a86f97fa306264"},
      {"image/seed20260105/size8/train", "aae7eadf41a87a22"},
      {"image/seed20260105/size8/val", "13b7c3e22d0f726b"},
      {"image/seed20260105/size8/test", "22b37fe3eac04d3d"},
      {"listops/seed1/size20/train", "5c048065556015d8"},
      {"listops/seed1/size20/val", "6a62edbabec7e219"},
      {"listops/seed1/size20/test", "a46a4a62566594bf"},
      {"listops/seed1/size8/train", "66407a42b19f8975"},
      {"listops/seed1/size8/val", "c1381092be08cb6f"},
      {"listops/seed1/size8/test", "7d4cc651dc6e47a0"},
      {"listops/seed20260105/size20/train", "085f0433c52c2df6"},
      {"listops/seed20260105/size20/val", "4c6d4975330d8475"},
      {"listops/seed20260105/size20/test", "ea5a2fa6fedfcd5f"},
      {"listops/seed20260105/size8/train", "10dd0cf2a3bd4d3e"},
      {"listops/seed20260105/size8/val", "d77d68ca0be850aa"},
      {"listops/seed20260105/size8/test", "5f9a53d5029def39"},
      {"listops_tsv/train", "08ec7134cddd2c90"},
      {"listops_tsv/val", "0180d4349e1b01e0"},
      {"listops_tsv/test", "9ec25ad360c74aac"},
      {"pathfinder/seed1/size20/train", "e72190ac2514ae28"},
      {"pathfinder/seed1/size20/val", "c6a8ae85bf17e251"},
      {"pathfinder/seed1/size20/test", "8031fee8a445220e"},
      {"pathfinder/seed1/size8/train", "c64b8503acc5e710"},
      {"pathfinder/seed1/size8/val", "3a49f50b8b710261"},
      {"pathfinder/seed1/size8/test", "ef9351c64be740c9"},
      {"pathfinder/seed20260105/size20/train", "4201261d64a82bb1"},
      {"pathfinder/seed20260105/size20/val", "a674533bcb3c7189"},
      {"pathfinder/seed20260105/size20/test", "bea6915e24e75307"},
      {"pathfinder/seed20260105/size8/train", "2f7bc921b9c13b28"},
      {"pathfinder/seed20260105/size8/val", "e5b14dccd098c4db"},
      {"pathfinder/seed20260105/size8/test", "2486bc8a091137b7"},
      {"pathx/seed1/size2/train", "37646c01972facee"},
      {"pathx/seed1/size2/val", "9021c2fd18f1c646"},
      {"pathx/seed1/size2/test", "1593f3f4271c84c2"},
      {"pathx/seed1/size5/train", "4769ec3decd7780c"},
      {"pathx/seed1/size5/val", "b75533c62e7bfae9"},
      {"pathx/seed1/size5/test", "475028cb3682cca0"},
      {"pathx/seed20260105/size2/train", "83ebefa1bb6f4442"},
      {"pathx/seed20260105/size2/val", "bc56907f626c65a8"},
      {"pathx/seed20260105/size2/test", "dc16ff1b55197bb9"},
      {"pathx/seed20260105/size5/train", "301e025fedec0878"},
      {"pathx/seed20260105/size5/val", "699aec55b2197079"},
      {"pathx/seed20260105/size5/test", "7209b6015b485d5f"},
      {"recall/seed1/size20/train", "46add10f35c2b65b"},
      {"recall/seed1/size20/val", "ea9d9f07691a6d98"},
      {"recall/seed1/size20/test", "c36fd7be97839600"},
      {"recall/seed1/size8/train", "49a380c0185915ba"},
      {"recall/seed1/size8/val", "5fa99634dce3be9b"},
      {"recall/seed1/size8/test", "fc6965d28a95315d"},
      {"recall/seed20260105/size20/train", "0faeb195b03399e3"},
      {"recall/seed20260105/size20/val", "ce0a10c842cb0a36"},
      {"recall/seed20260105/size20/test", "35ac8c8dc97f4eee"},
      {"recall/seed20260105/size8/train", "a8768f9f55216836"},
      {"recall/seed20260105/size8/val", "9e5e0ddf77dd440f"},
      {"recall/seed20260105/size8/test", "51e4d160b107c8b1"},
      {"retrieval/seed1/size20/train", "21d97cccc1a52584"},
      {"retrieval/seed1/size20/val", "9ba7055a45618c18"},
      {"retrieval/seed1/size20/test", "f828c8f8bd03ac23"},
      {"retrieval/seed1/size8/train", "463913b1c286cf7f"},
      {"retrieval/seed1/size8/val", "5c460106c87ddefe"},
      {"retrieval/seed1/size8/test", "64a13458cdb8e8d0"},
      {"retrieval/seed20260105/size20/train", "fb60570a58a5e542"},
      {"retrieval/seed20260105/size20/val", "cc21b74a62c4d550"},
      {"retrieval/seed20260105/size20/test", "8dad6080b6371537"},
      {"retrieval/seed20260105/size8/train", "eed9086225ccff79"},
      {"retrieval/seed20260105/size8/val", "21ba38f6e916d2bc"},
      {"retrieval/seed20260105/size8/test", "1fee7e8f35d6a120"},
      {"text/seed1/size20/train", "58edcb443e9cce89"},
      {"text/seed1/size20/val", "867c28efd2705c06"},
      {"text/seed1/size20/test", "0a4647830363e8df"},
      {"text/seed1/size8/train", "2ec2b8d1fec588da"},
      {"text/seed1/size8/val", "07f25423754b12f4"},
      {"text/seed1/size8/test", "6a943133529020fc"},
      {"text/seed20260105/size20/train", "0734742f385a526a"},
      {"text/seed20260105/size20/val", "65344bdad3eeeb6f"},
      {"text/seed20260105/size20/test", "a947f8dfbfe81206"},
      {"text/seed20260105/size8/train", "12f44cba82158972"},
      {"text/seed20260105/size8/val", "fc37ea68aa4151a4"},
      {"text/seed20260105/size8/test", "1c699bc482480f1e"},
  };
  return *expected;
}

TEST(DataFingerprintTest, EveryTaskGeneratesTheRecordedData) {
  std::map<std::string, TaskConfig> cases;
  for (const auto& [name, base] : BaseTasks()) {
    for (uint64_t seed : {1, 20260105}) {
      // pathx draws 128x128 images: fewer of them.
      const int scale = name == "pathx" ? 1 : 4;
      for (int size : {2 * scale, 5 * scale}) {
        TaskConfig task = base;
        task.set_data_seed(seed);
        task.set_train_size(2 * size);
        task.set_val_size(size);
        task.set_test_size(size);
        cases[absl::StrCat(name, "/seed", seed, "/size", size)] = task;
      }
    }
  }
  cases["listops_tsv"] = ListOpsTsvTask();
  for (const auto& [key, task] : cases) {
    for (Split split : {Split::kTrain, Split::kVal, Split::kTest}) {
      const std::string id = absl::StrCat(key, "/", SplitName(split));
      auto dataset = MakeDataset(task, split, "");
      ASSERT_TRUE(dataset.ok()) << id << ": " << dataset.status();
      const std::string hash = absl::StrFormat("%016x", HashDataset(**dataset));
      if (print_hashes) {
        std::printf("      {\"%s\", \"%s\"},\n", id.c_str(), hash.c_str());
        continue;
      }
      auto it = Expected().find(id);
      ASSERT_NE(it, Expected().end()) << id << " has no recorded hash";
      EXPECT_EQ(hash, it->second) << id;
    }
  }
  if (!print_hashes) {
    EXPECT_EQ(Expected().size(), 3 * cases.size());
  }
}

}  // namespace
}  // namespace lra

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--print") lra::print_hashes = true;
  }
  return RUN_ALL_TESTS();
}
