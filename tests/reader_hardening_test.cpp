// The file readers under hostile files: a small file claiming a huge model
// is refused before anything is allocated, opening a file costs its header
// not its size, NaN weights and bad JSON anywhere become errors naming the
// file and field, and a token cache whose manifest lies is refused.

#include <gtest/gtest.h>

#include <fstream>

#include "data/token_cache.h"
#include "error_of.h"
#include "format/safetensors.h"
#include "infer/inference_model.h"
#include "model/checkpoint.h"
#include "temp_dir.h"
#include "tokenizer/stored_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "train/train_settings.h"

namespace itera {
namespace {

namespace fs = std::filesystem;
using testing::error_of;

// This process's peak resident memory so far, in KiB (VmHWM).
long peak_rss_kb() {
    std::ifstream in("/proc/self/status");
    std::string key;
    while (in >> key) {
        if (key == "VmHWM:") {
            long kb = 0;
            in >> kb;
            return kb;
        }
        in.ignore(1 << 12, '\n');
    }
    return 0;
}

fs::path micro_checkpoint(
    const fs::path& dir, std::map<std::string, std::string> meta = {},
    const std::function<void(std::vector<float>&, const std::string&)>& edit = {}) {
    IteraModel m(ModelConfig::preset("micro", 64));
    m->initialize(1);
    const auto good = dir / "good.safetensors";
    save_checkpoint(m, no_tokenizer_metadata(64), good);
    if (meta.empty() && !edit) return good;
    auto f = SafetensorsFile::read(good);
    SafetensorsWriter w;
    for (const auto& [k, v] : f.metadata()) w.set_metadata(k, v);
    for (const auto& [k, v] : meta) w.set_metadata(k, v);
    for (const auto& t : f.tensors()) {
        std::vector<float> values(t.nbytes / 4);
        std::memcpy(values.data(), t.data, t.nbytes);
        if (edit) edit(values, t.name);
        w.add(t.name, t.dtype, t.shape, values.data(), t.nbytes);
    }
    const auto bad = dir / "bad.safetensors";
    w.write(bad);
    return bad;
}

TEST(Readers, ASmallFileClaimingAHugeModelIsRefusedBeforeAllocating) {
    testing::TempDir dir;
    auto config = ModelConfig::preset("micro", 65536);
    config.hidden_size = 16384;
    const auto bad = micro_checkpoint(dir.path(), {{"config", config.to_json()}});
    const long before = peak_rss_kb();
    const auto e = error_of([&] { load_checkpoint(bad); });
    EXPECT_NE(e.find("has shape"), std::string::npos) << e;
    EXPECT_NE(e.find("bad.safetensors"), std::string::npos) << e;
    const auto e2 = error_of([&] { InferenceModel::load(bad); });
    EXPECT_NE(e2.find("has shape"), std::string::npos) << e2;
    EXPECT_LT(peak_rss_kb() - before, 200 * 1024);  // nothing near the 4 GB it claims
}

TEST(Readers, OpeningAFileCostsItsHeaderNotItsSize) {
    testing::TempDir dir;
    // A 3 GB tensor file (sparse: no disk is used) with a valid header.
    const std::uint64_t n = 3ull << 30;
    const std::string header = R"({"big":{"dtype":"U8","shape":[)" + std::to_string(n) +
                               R"(],"data_offsets":[0,)" + std::to_string(n) + "]}}";
    const auto path = dir.path() / "big.safetensors";
    {
        std::ofstream out(path, std::ios::binary);
        std::uint64_t len = header.size();
        out.write(reinterpret_cast<const char*>(&len), 8);
        out << header;
    }
    fs::resize_file(path, 8 + header.size() + n);
    const long before = peak_rss_kb();
    const auto f = SafetensorsFile::read(path);
    EXPECT_EQ(f.tensors().size(), 1u);
    EXPECT_EQ(f.get("big").nbytes, n);
    EXPECT_LT(peak_rss_kb() - before, 64 * 1024);
}

TEST(Readers, NonFiniteWeightsAreRefusedWithTheTensorsName) {
    testing::TempDir dir;
    const auto bad =
        micro_checkpoint(dir.path(), {}, [](std::vector<float>& v, const std::string& name) {
            if (name == "layers.1.mixer.out_proj.weight") v[17] = std::nanf("");
        });
    const auto e = error_of([&] { load_checkpoint(bad); });
    EXPECT_NE(e.find("\"layers.1.mixer.out_proj.weight\" holds a non-finite value"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("element 17"), std::string::npos) << e;
    EXPECT_NE(error_of([&] { InferenceModel::load(bad); }).find("non-finite"), std::string::npos);
}

TEST(Readers, EveryJsonDefectIsAnErrorNamingTheField) {
    // Model configs: overflow, huge floats in integer fields, wrong types.
    for (const char* text :
         {R"({"vocab_size": 1e400})", R"({"vocab_size": 1e300})",
          R"({"vocab_size": 64, "num_layers": 9e18})", R"({"vocab_size": 18446744073709551615})",
          R"({"vocab_size": 64, "moe_layers": [1.5]})",
          R"({"vocab_size": 64, "moe_layers": [1e300]})", R"({"vocab_size": "64"})",
          R"({"vocab_size": 64, "ssm_dt_rank": -3})", "[1, 2", "\xff"}) {
        const auto e = error_of([&] { ModelConfig::from_json(text); });
        EXPECT_NE(e.find("model config"), std::string::npos) << text << " -> " << e;
    }
    // The same set of MoE layers in another order is the same model.
    EXPECT_TRUE(ModelConfig::from_json(R"({"vocab_size": 64, "moe_layers": [3, 1]})") ==
                ModelConfig::from_json(R"({"vocab_size": 64, "moe_layers": [1, 3]})"));
    // Training settings: a float too large for an integer setting.
    for (const char* text : {R"({"batch_size": 1e300})", R"({"steps": -1e30})", R"({"lr": "fast"})",
                             R"({"seed": 1e400})"}) {
        const auto e = error_of([&] { TrainSettings::from_json(text); });
        EXPECT_NE(e.find("training settings"), std::string::npos) << text << " -> " << e;
    }
    // Tokenizers: wrong types inside a known type, and a value that is not JSON at all.
    for (const char* text :
         {R"({"type": "word", "words": [1, 2]})", R"({"type": "bpe", "model": 5})",
          R"({"type": 7})", R"({"type": "word", "words": 1e400})"}) {
        const auto e = error_of([&] { Tokenizer::deserialize(text); });
        EXPECT_NE(e.find("tokenizer"), std::string::npos) << text << " -> " << e;
    }
    EXPECT_NE(
        error_of([] { stored_tokenizer("{not json", "/x/m.safetensors"); }).find("m.safetensors"),
        std::string::npos);
}

TEST(Readers, ATokenCacheWhoseManifestLiesIsRefused) {
    testing::TempDir dir;
    std::ofstream(dir.path() / "train.bin", std::ios::binary) << std::string(10, '\0');
    // 2^63 + 5 tokens of 2 bytes "are" 10 bytes modulo 2^64: refused, not mapped as 2^63 tokens.
    std::ofstream(dir.path() / "manifest.json")
        << R"({"key": {"bytes_per_token": 2}, "train": {"tokens": 9223372036854775813}})";
    EXPECT_NE(error_of([&] { TokenStream::open(dir.path(), Split::Train); }).find("manifest says"),
              std::string::npos);
    std::ofstream(dir.path() / "manifest.json") << R"({"key": 5, "train": []})";
    EXPECT_NE(
        error_of([&] { TokenStream::open(dir.path(), Split::Train); }).find("no valid token cache"),
        std::string::npos);
}

}  // namespace
}  // namespace itera
