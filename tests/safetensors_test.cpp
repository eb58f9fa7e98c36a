// The safetensors reader/writer: a golden byte layout, round trips, and every
// kind of damaged file rejected with a message naming the problem.

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "format/safetensors.h"
#include "temp_dir.h"
#include "util/error.h"

namespace itera {
namespace {

std::vector<std::uint8_t> make_file(const std::string& header, std::size_t data_bytes,
                                    std::optional<std::uint64_t> len = std::nullopt) {
    std::vector<std::uint8_t> out(8 + header.size() + data_bytes, 0);
    std::uint64_t n = len.value_or(header.size());
    for (int i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(n >> (8 * i));
    std::memcpy(out.data() + 8, header.data(), header.size());
    return out;
}

std::string parse_error(std::vector<std::uint8_t> bytes) {
    try {
        SafetensorsFile::parse(std::move(bytes), "x.safetensors");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(Safetensors, GoldenLayout) {
    SafetensorsWriter w;
    w.set_metadata("format", "itera-lite");
    float a[2] = {1.0f, -2.0f};
    std::uint8_t b[3] = {7, 8, 9};
    w.add("a", DType::F32, {2}, a, sizeof a);
    w.add("b", DType::U8, {3, 1}, b, sizeof b);
    auto bytes = w.serialize();
    const std::string header =
        R"({"__metadata__":{"format":"itera-lite"},"a":{"data_offsets":[0,8],"dtype":"F32","shape":[2]},)"
        R"("b":{"data_offsets":[8,11],"dtype":"U8","shape":[3,1]}})";
    const std::size_t padded = (header.size() + 7) / 8 * 8;
    ASSERT_EQ(bytes.size(), 8 + padded + 11);
    EXPECT_EQ(bytes[0], padded);
    EXPECT_EQ(std::string(bytes.begin() + 8, bytes.begin() + 8 + header.size()), header);
    EXPECT_EQ(std::string(bytes.begin() + 8 + header.size(), bytes.begin() + 8 + padded),
              std::string(padded - header.size(), ' '));
    float back[2];
    std::memcpy(back, bytes.data() + 8 + padded, 8);
    EXPECT_EQ(back[1], -2.0f);
    EXPECT_EQ(bytes.back(), 9);
}

TEST(Safetensors, RoundTripThroughDisk) {
    testing::TempDir dir;
    SafetensorsWriter w;
    w.set_metadata("config", R"({"x": "quoted \" value"})");
    std::vector<std::uint16_t> half = {0x3c00, 0xc000};
    std::vector<std::int64_t> empty;
    w.add("half", DType::F16, {2}, half.data(), 4);
    w.add("empty", DType::I64, {0, 3}, empty.data(), 0);
    auto path = dir.path() / "t.safetensors";
    w.write(path);
    auto f = SafetensorsFile::read(path);
    EXPECT_EQ(f.meta("config"), R"({"x": "quoted \" value"})");
    ASSERT_EQ(f.tensors().size(), 2u);
    EXPECT_EQ(f.get("half").dtype, DType::F16);
    EXPECT_EQ(f.get("half").shape, (std::vector<std::int64_t>{2}));
    EXPECT_EQ(std::memcmp(f.get("half").data, half.data(), 4), 0);
    EXPECT_EQ(f.get("empty").nbytes, 0u);
    EXPECT_EQ(f.get("empty").shape, (std::vector<std::int64_t>{0, 3}));
    // Nothing but the file itself is left in the directory (no temp files).
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
}

TEST(Safetensors, DamagedFilesAreRejectedWithTheReason) {
    const std::string ok = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    EXPECT_EQ(parse_error(make_file(ok, 8)), "");
    EXPECT_NE(parse_error({1, 2, 3}).find("truncated"), std::string::npos);
    EXPECT_NE(parse_error(make_file(ok, 8, 1000)).find("header length 1000"), std::string::npos);
    EXPECT_NE(parse_error(make_file(ok, 8, 1ull << 40)).find("100 MiB"), std::string::npos);
    EXPECT_NE(parse_error(make_file(ok, 4)).find("truncated"), std::string::npos);
    EXPECT_NE(parse_error(make_file(ok, 12)).find("not described"), std::string::npos);
    EXPECT_NE(parse_error(make_file("{oops", 0)).find("not valid JSON"), std::string::npos);
    EXPECT_NE(parse_error(make_file("[1,2]", 0)).find("not a JSON object"), std::string::npos);
    EXPECT_NE(parse_error(make_file(R"({"w":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", 8))
                  .find("unknown dtype \"F33\""),
              std::string::npos);
    EXPECT_NE(parse_error(make_file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8))
                  .find("expected 12"),
              std::string::npos);
    EXPECT_NE(parse_error(make_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8))
                  .find("end before"),
              std::string::npos);
    EXPECT_NE(
        parse_error(make_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12))
            .find("gap"),
        std::string::npos);
    EXPECT_NE(parse_error(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                    R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                    8))
                  .find("overlaps"),
              std::string::npos);
    EXPECT_NE(
        parse_error(make_file(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8))
            .find("negative"),
        std::string::npos);
    EXPECT_NE(
        parse_error(make_file(R"({"w":{"dtype":"F32","shape":[2]}})", 8)).find("data_offsets"),
        std::string::npos);
    EXPECT_NE(parse_error(make_file(R"({"__metadata__":{"k":3}})", 0)).find("not a string"),
              std::string::npos);
    EXPECT_NE(
        parse_error(
            make_file(
                R"({"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}})", 8))
            .find("too large"),
        std::string::npos);
}

TEST(Safetensors, MissingFileAndTensorAreNamed) {
    try {
        SafetensorsFile::read("/nonexistent/x.safetensors");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/x.safetensors"), std::string::npos);
    }
    auto f = SafetensorsFile::parse(
        make_file(R"({"w":{"dtype":"F32","shape":[],"data_offsets":[0,4]}})", 4), "m");
    EXPECT_EQ(f.get("w").numel(), 1);
    EXPECT_THROW(f.get("v"), Error);
    EXPECT_THROW(f.meta("format"), Error);
}

TEST(Safetensors, WriterRejectsInconsistentTensors) {
    SafetensorsWriter w;
    float x[2] = {};
    EXPECT_THROW(w.add("x", DType::F32, {3}, x, sizeof x), Error);
    w.add("x", DType::F32, {2}, x, sizeof x);
    EXPECT_THROW(w.add("x", DType::F32, {2}, x, sizeof x), Error);
    EXPECT_THROW(w.write("/nonexistent/dir/x.safetensors"), Error);
}

}  // namespace
}  // namespace itera
