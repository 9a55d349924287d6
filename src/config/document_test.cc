#include "config/document.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/config.h"

namespace parley::config {
namespace {

using ::testing::ElementsAre;

class DocumentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("parley_document_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "parts");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }
  std::filesystem::path dir_;
};

TEST_F(DocumentTest, FlatteningKeepsTheMeaningOfIncludes) {
  Write("parts/skills.yaml", "skills: [english, sales]\nrouting: {reoffer_delay: 9s}\n");
  Write("parts/agents.yaml",
        "include: [skills.yaml]\nagents: [{id: a, skills: {sales: 2}, queues: [q]}]\n");
  const auto root = Write("main.yaml",
                          "include: [parts/agents.yaml, parts/skills.yaml]\n"
                          "site: {name: Flat}\nrouting: {max_consecutive_misses: 2}\n"
                          "queues: [{name: q, skills: {sales: 1}}]\n");
  std::vector<ConfigError> errors;
  auto flat = FlattenConfigFile(root, &errors);
  ASSERT_TRUE(flat.ok()) << flat.status().ToString();
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(flat->find("include"), std::string::npos) << *flat;
  // The flat text parses to the same configuration as the files.
  auto from_files = LoadConfigFile(root, &errors);
  ASSERT_TRUE(from_files.ok());
  auto from_flat = ParseConfigText(*flat, "flat.yaml", {}, &errors);
  ASSERT_TRUE(from_flat.ok()) << (errors.empty() ? "" : errors[0].ToString());
  EXPECT_EQ((*from_flat)->site_name, "Flat");
  EXPECT_EQ((*from_flat)->routing.skills, (*from_files)->routing.skills);
  EXPECT_EQ((*from_flat)->routing.settings.reoffer_delay, Seconds(9));
  EXPECT_EQ((*from_flat)->routing.settings.max_consecutive_misses, 2u);
  ASSERT_EQ((*from_flat)->routing.agents.size(), 1u);
  EXPECT_EQ((*from_flat)->routing.queues.size(), 1u);
}

TEST_F(DocumentTest, UnreadableIncludeIsAnError) {
  const auto root = Write("main.yaml", "include: missing.yaml\nskills: [a]\n");
  std::vector<ConfigError> errors;
  EXPECT_FALSE(FlattenConfigFile(root, &errors).ok());
  ASSERT_FALSE(errors.empty());
  EXPECT_THAT(errors[0].file, ::testing::HasSubstr("missing.yaml"));
}

TEST(ConfigDiffTest, NamesWhatIsAddedRemovedAndChanged) {
  const std::string before = R"(
site: {name: A, time_zone: UTC}
skills: [english, sales]
queues:
  - {name: sales, strategy: longest-idle}
  - {name: support}
users: [{login: bob, roles: [agent], agent: bob}]
)";
  const std::string after = R"(
site: {name: A, time_zone: Europe/Paris}
skills: [english, sales, billing]
queues:
  - {name: support}
  - {name: sales, strategy: round-robin}
reason_codes: [lunch]
)";
  auto diff = DiffConfigDocuments(before, after);
  ASSERT_TRUE(diff.ok()) << diff.status().ToString();
  EXPECT_THAT(*diff, ElementsAre(ConfigChange{"site", "time_zone", "changed"},
                                 ConfigChange{"skills", "billing", "added"},
                                 ConfigChange{"queues", "sales", "changed"},
                                 ConfigChange{"users", "bob", "removed"},
                                 ConfigChange{"reason_codes", "lunch", "added"}));
  EXPECT_EQ(FormatConfigChanges(*diff),
            "~ site time_zone\n+ skills billing\n~ queues sales\n- users bob\n"
            "+ reason_codes lunch\n");
  // An agent is its id and a user its login: a new display name changes them, it does not
  // remove one and add another.
  auto renamed = DiffConfigDocuments(
      "agents: [{id: zoe, name: Zoe}]\nusers: [{login: z, name: Zoe, roles: [agent]}]\n",
      "agents: [{id: zoe, name: Zoé Blanc}]\nusers: [{login: z, name: Zoé, roles: [agent]}]\n");
  ASSERT_TRUE(renamed.ok()) << renamed.status().ToString();
  EXPECT_THAT(*renamed, ElementsAre(ConfigChange{"agents", "zoe", "changed"},
                                    ConfigChange{"users", "z", "changed"}));
  // Reordering items changes nothing; nor does formatting.
  auto same = DiffConfigDocuments("queues: [{name: a}, {name: b}]\n",
                                  "queues:\n  - name: b\n  - {name: a}\n");
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->empty());
  EXPECT_EQ(DiffConfigDocuments("a: [", "b: 1").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DiffConfigDocuments("", "- 1").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace parley::config
