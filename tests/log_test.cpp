// The rotating log: lines with a timestamp and level, newlines escaped, files
// rotated before they pass the size limit, only `keep` old files kept.

#include <gtest/gtest.h>

#include <filesystem>

#include "temp_dir.h"
#include "util/log.h"

namespace itera {
namespace {

TEST(Log, RotatesKeepsTheNewestFilesAndReturnsTheTail) {
    testing::TempDir dir;
    open_log(dir.path() / "logs", "t", LogOptions{300, 2});
    for (int i = 0; i < 40; ++i) log_line("info", "line " + std::to_string(i) + "\nsecond half");
    const auto log = dir.path() / "logs" / "t.log";
    EXPECT_EQ(log_path(), log);
    EXPECT_TRUE(std::filesystem::exists(log));
    EXPECT_TRUE(std::filesystem::exists(log.string() + ".1"));
    EXPECT_TRUE(std::filesystem::exists(log.string() + ".2"));
    EXPECT_FALSE(std::filesystem::exists(log.string() + ".3"));
    EXPECT_LE(std::filesystem::file_size(log), 300u);
    const auto tail = log_tail(2);
    ASSERT_EQ(tail.size(), 2u);
    EXPECT_NE(tail[1].find("[info] line 39\\nsecond half"), std::string::npos) << tail[1];
    EXPECT_NE(tail[0].find("line 38"), std::string::npos);
    EXPECT_EQ(tail[1].substr(4, 1), "-");  // 2026-11-27T...
    close_log();
    log_line("info", "not written");
    EXPECT_TRUE(log_path().empty());
}

TEST(Log, AnUnwritableFolderIsSkippedSilently) {
    open_log("/proc/itera-cannot-exist", "t");
    EXPECT_NO_THROW(log_line("info", "nowhere"));
    close_log();
}

}  // namespace
}  // namespace itera
