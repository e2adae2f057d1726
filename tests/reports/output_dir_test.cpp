// Atomic output: files replaced whole, folders swapped whole, nothing changed when writing fails.
#include "reports/output_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "models/config/input_error.h"
#include "tests/reports/test_util.h"

namespace v4sim::report {
namespace {

using testing::entries;
using testing::slurp;
using testing::TempDir;
namespace fs = std::filesystem;

void write_plain(const fs::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary) << s;
}

TEST(WriteFileAtomic, WritesAndReplacesWithoutLeftovers) {
  TempDir tmp;
  const fs::path f = tmp / "a.txt";
  write_file_atomic(f, "first");
  EXPECT_EQ(slurp(f), "first");
  ::chmod(f.c_str(), 0640);
  write_file_atomic(f, std::string(100000, 'x'));
  EXPECT_EQ(slurp(f), std::string(100000, 'x'));
  struct stat st {};
  ASSERT_EQ(::stat(f.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u) << "a replaced file keeps its mode";
  EXPECT_EQ(entries(tmp.path()), (std::set<std::string>{"a.txt"}));
}

TEST(WriteFileAtomic, NewFilesAreNotPrivateTemporaries) {
  TempDir tmp;
  write_file_atomic(tmp / "b.txt", "x");
  struct stat st {};
  ASSERT_EQ(::stat((tmp / "b.txt").c_str(), &st), 0);
  // mkstemp creates 0600; the written file gets 0666 minus the umask, readable by the group at
  // any usual umask (022, 002, 027).
  EXPECT_NE(st.st_mode & 0040, 0u);
}

TEST(WriteFileAtomic, FailureNamesThePathAndLeavesNothing) {
  TempDir tmp;
  const fs::path f = tmp / "missing-folder" / "c.txt";
  try {
    write_file_atomic(f, "x");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing-folder/c.txt"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(entries(tmp.path()).empty());
}

TEST(ReplaceDir, CreatesFolderWithMarkerAndParents) {
  TempDir tmp;
  const fs::path out = tmp / "deep" / "out";
  replace_dir_atomically(out, [](const fs::path& staging) {
    EXPECT_EQ(staging.parent_path(), staging.parent_path().parent_path() / "deep");
    write_file_atomic(staging / "x.txt", "new");
  });
  EXPECT_EQ(slurp(out / "x.txt"), "new");
  EXPECT_TRUE(fs::exists(out / kOutputMarker));
  EXPECT_EQ(entries(tmp / "deep"), (std::set<std::string>{"out"}));
}

TEST(ReplaceDir, ReplacesAPreviousOutputAsAWhole) {
  TempDir tmp;
  const fs::path out = tmp / "out";
  replace_dir_atomically(out, [](const fs::path& s) {
    write_file_atomic(s / "old-only.txt", "old");
    write_file_atomic(s / "both.txt", "old");
  });
  replace_dir_atomically(out, [](const fs::path& s) { write_file_atomic(s / "both.txt", "new"); });
  EXPECT_EQ(entries(out), (std::set<std::string>{"both.txt", std::string(kOutputMarker)}));
  EXPECT_EQ(slurp(out / "both.txt"), "new");
  EXPECT_EQ(entries(tmp.path()), (std::set<std::string>{"out"})) << "no temporary folder left";
}

TEST(ReplaceDir, FailureMidwayLeavesTheOldFolderIntact) {
  TempDir tmp;
  const fs::path out = tmp / "out";
  replace_dir_atomically(out, [](const fs::path& s) {
    write_file_atomic(s / "a.txt", "old a");
    write_file_atomic(s / "b.txt", "old b");
  });
  const std::set<std::string> before = entries(out);
  EXPECT_THROW(replace_dir_atomically(out,
                                      [](const fs::path& s) {
                                        write_file_atomic(s / "a.txt", "new a");
                                        write_file_atomic(s / "c.txt", "new c");
                                        throw std::runtime_error("simulated failure");
                                      }),
               std::runtime_error);
  EXPECT_EQ(entries(out), before);
  EXPECT_EQ(slurp(out / "a.txt"), "old a");
  EXPECT_EQ(slurp(out / "b.txt"), "old b");
  EXPECT_EQ(entries(tmp.path()), (std::set<std::string>{"out"})) << "staging folder removed";
}

TEST(ReplaceDir, RefusesForeignFoldersAndFiles) {
  TempDir tmp;
  fs::create_directory(tmp / "mine");
  write_plain(tmp / "mine" / "thesis.tex", "precious");
  EXPECT_THROW(replace_dir_atomically(tmp / "mine", [](const fs::path&) {}), InputError);
  EXPECT_EQ(slurp(tmp / "mine" / "thesis.tex"), "precious");
  write_plain(tmp / "file", "x");
  EXPECT_THROW(replace_dir_atomically(tmp / "file", [](const fs::path&) {}), InputError);
  EXPECT_THROW(replace_dir_atomically(tmp / "sub" / "..", [](const fs::path&) {}), InputError);
  EXPECT_EQ(entries(tmp.path()), (std::set<std::string>{"mine", "file"}));
}

TEST(ReplaceDir, AcceptsAnEmptyExistingFolder) {
  TempDir tmp;
  fs::create_directory(tmp / "empty");
  replace_dir_atomically(tmp / "empty", [](const fs::path& s) { write_file_atomic(s / "x", "1"); });
  EXPECT_EQ(slurp(tmp / "empty" / "x"), "1");
}

}  // namespace
}  // namespace v4sim::report
