#include "sandboxd/fileops.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace pincer::fileops {
namespace {

namespace fs = std::filesystem;

class FileOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ =
        fs::temp_directory_path() / ("pincer-fileops-" + std::to_string(std::random_device{}()));
    root_dir_ = base_ / "ws";
    fs::create_directories(root_dir_);
    fs::create_directories(base_ / "outside");
    std::ofstream(base_ / "outside" / "secret.txt") << "top secret\n";
    auto r = Root::Open(root_dir_.string());
    ASSERT_TRUE(r.ok()) << r.error.message;
    root_.emplace(std::move(*r.value));
  }
  void TearDown() override { fs::remove_all(base_); }
  fs::path base_, root_dir_;
  std::optional<Root> root_;
};

TEST_F(FileOpsTest, WriteReadEditRoundTrip) {
  ASSERT_TRUE(root_->Write("a/b/c.txt", "one\ntwo\nthree\ntwo\n").ok());
  auto all = root_->Read("a/b/c.txt");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all.value->content, "one\ntwo\nthree\ntwo\n");
  EXPECT_EQ(all.value->total_lines, 4);
  auto lines = root_->Read("/workspace/a/b/c.txt", 2, 2);
  ASSERT_TRUE(lines.ok()) << lines.error.message;
  EXPECT_EQ(lines.value->content, "two\nthree\n");
  EXPECT_TRUE(lines.value->truncated);
  auto amb = root_->Edit("a/b/c.txt", "two", "2", false);
  EXPECT_EQ(amb.error.code, "ambiguous");
  EXPECT_EQ(root_->Edit("a/b/c.txt", "nine", "9", false).error.code, "no_match");
  auto all2 = root_->Edit("a/b/c.txt", "two", "2", true);
  ASSERT_TRUE(all2.ok());
  EXPECT_EQ(*all2.value, 2);
  EXPECT_EQ(root_->Read("a/b/c.txt").value->content, "one\n2\nthree\n2\n");
}

TEST_F(FileOpsTest, ALineRangeOverTheByteBudgetStopsAtTheFirstLineThatDoesNotFit) {
  ASSERT_TRUE(root_->Write("long.txt", "a\n" + std::string(100, 'x') + "\nb\nc\n").ok());
  auto r = root_->Read("long.txt", 1, 4, 20);
  ASSERT_TRUE(r.ok()) << r.error.message;
  // Line 3 ("b") fits the budget but must not be read as line 2.
  EXPECT_EQ(r.value->content, "a\n");
  EXPECT_TRUE(r.value->truncated);
  EXPECT_EQ(r.value->total_lines, 4);
}

TEST_F(FileOpsTest, ListStatGlobGrep) {
  root_->Write("src/main.cc", "int main() {}\n// TODO fix\n");
  root_->Write("src/util/x.h", "#pragma once\n// TODO too\n");
  root_->Write("README.md", "hello\n");
  auto ls = root_->List(".");
  ASSERT_TRUE(ls.ok());
  ASSERT_EQ(ls.value->size(), 2u);
  EXPECT_EQ((*ls.value)[0].name, "src");  // directories first
  EXPECT_EQ((*ls.value)[1].type, "file");
  EXPECT_EQ(root_->Stat("src/main.cc").value->size, 26);
  auto g = root_->Glob("**/*.h");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(*g.value, std::vector<std::string>{"src/util/x.h"});
  EXPECT_EQ(root_->Glob("*.md").value->size(), 1u);
  auto grep = root_->Grep("TODO");
  ASSERT_TRUE(grep.ok());
  ASSERT_EQ(grep.value->size(), 2u);
  EXPECT_EQ((*grep.value)[0].line, 2);
  EXPECT_EQ(root_->Grep("(", ".").error.code, "invalid_argument");
  EXPECT_TRUE(GlobMatch("**/*.cc", "a/b/c.cc"));
  EXPECT_TRUE(GlobMatch("**/*.cc", "c.cc"));
  EXPECT_FALSE(GlobMatch("*.cc", "a/c.cc"));
}

TEST_F(FileOpsTest, DotDotAndAbsoluteEscapesFail) {
  for (std::string p : std::vector<std::string>{
           "../outside/secret.txt", "a/../../outside/secret.txt", "/etc/passwd",
           "/workspace/../outside/secret.txt", std::string("x\0y", 3)}) {
    auto r = root_->Read(p);
    EXPECT_FALSE(r.ok()) << p;
    EXPECT_EQ(r.error.code, "invalid_path") << p << ": " << r.error.message;
  }
  EXPECT_EQ(root_->Write("../escape.txt", "x").error.code, "invalid_path");
  EXPECT_FALSE(fs::exists(base_ / "escape.txt"));
}

TEST_F(FileOpsTest, SymlinkEscapesFailOnEveryOperation) {
  fs::create_symlink(base_ / "outside", root_dir_ / "link_dir");         // absolute target
  fs::create_symlink("../outside/secret.txt", root_dir_ / "link_file");  // relative escape
  fs::create_symlink("/etc/passwd", root_dir_ / "passwd");
  EXPECT_EQ(root_->Read("link_dir/secret.txt").error.code, "invalid_path");
  EXPECT_EQ(root_->Read("link_file").error.code, "invalid_path");
  EXPECT_EQ(root_->Read("passwd").error.code, "invalid_path");
  EXPECT_FALSE(root_->Write("link_dir/new.txt", "x").ok());
  EXPECT_FALSE(fs::exists(base_ / "outside" / "new.txt"));
  EXPECT_FALSE(root_->Write("link_file", "pwned").ok());
  std::ifstream in(base_ / "outside" / "secret.txt");
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "top secret\n");
  EXPECT_FALSE(root_->Edit("link_file", "top", "x", false).ok());
  EXPECT_FALSE(root_->List("link_dir").ok());
  EXPECT_FALSE(root_->Remove("link_dir/secret.txt").ok());
  EXPECT_TRUE(fs::exists(base_ / "outside" / "secret.txt"));
  // The symlink itself can be removed (it lives inside the root).
  EXPECT_TRUE(root_->Remove("link_file").ok());
  EXPECT_TRUE(fs::exists(base_ / "outside" / "secret.txt"));
  // Grep/glob do not follow links out.
  auto grep = root_->Grep("secret");
  ASSERT_TRUE(grep.ok());
  EXPECT_TRUE(grep.value->empty());
}

TEST_F(FileOpsTest, RemoveAndErrors) {
  root_->Write("d/e/f.txt", "x");
  EXPECT_EQ(root_->Remove("d").error.code, "not_empty");
  EXPECT_TRUE(root_->Remove("d", true).ok());
  EXPECT_EQ(root_->Read("d/e/f.txt").error.code, "not_found");
  EXPECT_EQ(root_->Remove(".").error.code, "invalid_path");
  EXPECT_EQ(root_->Write(".", "x").error.code, "invalid_path");
  root_->Write("dir/x", "1");
  EXPECT_EQ(root_->Read("dir").error.code, "is_a_directory");
}

TEST_F(FileOpsTest, DotSegmentsAreDroppedAndADotDotLeafIsNeverDeleted) {
  EXPECT_EQ(*root_->Relative("./a//b/./c/").value, "a/b/c");
  EXPECT_EQ(*root_->Relative("sub/.").value, "sub");
  EXPECT_EQ(*root_->Relative("./").value, ".");
  EXPECT_EQ(*root_->Relative("/workspace/./x/").value, "x");
  EXPECT_EQ(*root_->Relative("a/../b").value,
            "a/../b");  // the kernel resolves it, beneath the root
  ASSERT_TRUE(root_->Write("keep/important.txt", "x").ok());
  ASSERT_TRUE(root_->Write("sub/deeper/ok.txt", "x").ok());
  // "sub/.." names the root: deleting it would empty the workspace.
  for (std::string p : {"sub/..", "sub/deeper/../..", "sub/deeper/..", "./sub/../"}) {
    EXPECT_EQ(root_->Remove(p, true).error.code, "invalid_path") << p;
  }
  EXPECT_TRUE(fs::exists(root_dir_ / "keep" / "important.txt"));
  EXPECT_TRUE(fs::exists(root_dir_ / "sub" / "deeper" / "ok.txt"));
  EXPECT_EQ(root_->Remove("./", true).error.code, "invalid_path");
  // "sub/." is sub itself, and only sub.
  EXPECT_TRUE(root_->Remove("sub/.", true).ok());
  EXPECT_FALSE(fs::exists(root_dir_ / "sub"));
  EXPECT_TRUE(fs::exists(root_dir_ / "keep" / "important.txt"));
  auto ls = root_->List("./keep/");
  ASSERT_TRUE(ls.ok());
  ASSERT_EQ(ls.value->size(), 1u);
  EXPECT_EQ((*ls.value)[0].path, "keep/important.txt");
}

TEST_F(FileOpsTest, SetOwnerGivesWhatWriteCreatesToThatUser) {
  if (geteuid() != 0) GTEST_SKIP() << "only root can give files away";
  ASSERT_TRUE(root_->Write("old/before.txt", "x").ok());
  root_->SetOwner(1234, 2345);
  ASSERT_TRUE(root_->Write("old/new/f.txt", "x").ok());
  ASSERT_TRUE(root_->Write("old/before.txt", "rewritten").ok());
  auto owner = [&](const char* rel) {
    struct stat st {};
    EXPECT_EQ(lstat((root_dir_ / rel).c_str(), &st), 0) << rel;
    return std::make_pair(st.st_uid, st.st_gid);
  };
  EXPECT_EQ(owner("old/new"), std::make_pair(uid_t{1234}, gid_t{2345}));
  EXPECT_EQ(owner("old/new/f.txt"), std::make_pair(uid_t{1234}, gid_t{2345}));
  EXPECT_EQ(owner("old/before.txt"), std::make_pair(uid_t{1234}, gid_t{2345}));
  EXPECT_EQ(owner("old"), std::make_pair(uid_t{0}, gid_t{0}));  // existed already: left alone
}

}  // namespace
}  // namespace pincer::fileops
