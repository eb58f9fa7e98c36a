// Checkpoints: what is saved loads back to the same logits, the metadata is
// the spec's, and a file that does not match its config is refused.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>

#include "format/safetensors.h"
#include "model/checkpoint.h"
#include "model/tensor_names.h"
#include "temp_dir.h"
#include "util/error.h"

namespace itera {
namespace {

std::string load_error(const std::filesystem::path& p) {
    try {
        load_checkpoint(p);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

// Rewrites `src` to `dst` with `edit` applied to the tensor list and metadata.
void rewrite(const std::filesystem::path& src, const std::filesystem::path& dst,
             const std::function<bool(SafetensorsWriter&, const SafeTensor&)>& keep,
             std::map<std::string, std::string> meta_override = {}) {
    auto f = SafetensorsFile::read(src);
    SafetensorsWriter w;
    for (const auto& [k, v] : f.metadata()) w.set_metadata(k, v);
    for (const auto& [k, v] : meta_override) w.set_metadata(k, v);
    for (const auto& t : f.tensors())
        if (keep(w, t)) w.add(t.name, t.dtype, t.shape, t.data, t.nbytes);
    w.write(dst);
}

TEST(Checkpoint, RoundTripGivesIdenticalLogits) {
    testing::TempDir dir;
    auto c = ModelConfig::preset("micro", 120);
    IteraModel m(c);
    m->initialize(21);
    m->eval();
    auto path = dir.path() / "m.safetensors";
    save_checkpoint(m, no_tokenizer_metadata(120), path, {{"run", "7"}});
    auto loaded = load_checkpoint(path);
    loaded.model->eval();
    auto tokens = torch::randint(120, {2, 9}, torch::kLong);
    torch::NoGradGuard ng;
    EXPECT_TRUE(torch::equal(m->forward(tokens).logits, loaded.model->forward(tokens).logits));
    EXPECT_EQ(loaded.model->config(), c);
    EXPECT_EQ(loaded.metadata.at("run"), "7");

    auto f = SafetensorsFile::read(path);
    EXPECT_EQ(f.meta("format"), "itera-lite");
    EXPECT_EQ(f.meta("format_version"), "2");
    EXPECT_EQ(f.meta("quantization"), "none");
    EXPECT_EQ(nlohmann::json::parse(f.meta("config"))["hidden_size"], 64);
    EXPECT_EQ(f.tensors().size(), spec_tensors(c).size());
    for (const auto& t : f.tensors()) EXPECT_EQ(t.dtype, DType::F32) << t.name;
    EXPECT_EQ(f.find("lm_head.weight"), nullptr);  // tied head is not stored
    // Size on disk = header + 4 bytes per parameter.
    EXPECT_GT(std::filesystem::file_size(path),
              static_cast<std::uintmax_t>(parameter_count(c) * 4));
    EXPECT_LT(std::filesystem::file_size(path),
              static_cast<std::uintmax_t>(parameter_count(c) * 4 + 16384));
}

TEST(Checkpoint, MismatchesAreRefused) {
    testing::TempDir dir;
    auto c = ModelConfig::preset("micro", 64);
    IteraModel m(c);
    m->initialize(1);
    auto good = dir.path() / "good.safetensors", bad = dir.path() / "bad.safetensors";
    save_checkpoint(m, no_tokenizer_metadata(64), good);
    ASSERT_EQ(load_error(good), "");

    rewrite(good, bad, [](auto&, const SafeTensor& t) {
        return t.name != "layers.1.ffn.experts.2.w1.weight";
    });
    EXPECT_NE(load_error(bad).find("missing tensor \"layers.1.ffn.experts.2.w1.weight\""),
              std::string::npos);

    rewrite(good, bad, [](SafetensorsWriter& w, const SafeTensor& t) {
        if (t.name == "norm_f.bias") {
            std::vector<float> z(64);
            w.add("layers.1.ffn.expert.0.w1.weight", DType::F32, {64}, z.data(), 256);
        }
        return true;
    });
    EXPECT_NE(load_error(bad).find("unexpected tensor \"layers.1.ffn.expert.0.w1.weight\""),
              std::string::npos);

    rewrite(good, bad, [](SafetensorsWriter& w, const SafeTensor& t) {
        if (t.name != "layers.0.mixer.D") return true;
        w.add(t.name, t.dtype, {t.shape[0] / 2, 2}, t.data, t.nbytes);
        return false;
    });
    EXPECT_NE(load_error(bad).find("\"layers.0.mixer.D\" has shape (64, 2)"), std::string::npos);

    rewrite(good, bad, [](auto&, const SafeTensor&) { return true; }, {{"format_version", "1"}});
    EXPECT_NE(load_error(bad).find("format_version"), std::string::npos);

    rewrite(good, bad, [](auto&, const SafeTensor&) { return true; },
            {{"config", R"({"vocab_size": 0})"}});
    EXPECT_NE(load_error(bad).find("vocab_size"), std::string::npos);

    // A truncated copy.
    {
        std::ifstream in(good, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), {});
        std::ofstream out(bad, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
    }
    EXPECT_NE(load_error(bad).find("truncated"), std::string::npos);
    EXPECT_NE(load_error(dir.path() / "none.safetensors").find("no such file"), std::string::npos);
}

TEST(Checkpoint, HalfPrecisionTensorsWidenOnLoad) {
    testing::TempDir dir;
    auto c = ModelConfig::preset("micro", 64);
    IteraModel m(c);
    m->initialize(2);
    auto good = dir.path() / "good.safetensors", half = dir.path() / "half.safetensors";
    save_checkpoint(m, no_tokenizer_metadata(64), good);
    rewrite(good, half, [](SafetensorsWriter& w, const SafeTensor& t) {
        auto f = torch::from_blob(const_cast<std::uint8_t*>(t.data), t.shape, torch::kFloat)
                     .to(torch::kBFloat16);
        w.add(t.name, DType::BF16, t.shape, f.data_ptr(), static_cast<std::size_t>(f.nbytes()));
        return false;
    });
    auto loaded = load_checkpoint(half);
    auto diff = (loaded.model->embed->weight - m->embed->weight).abs().max().item<double>();
    EXPECT_LT(diff, 0.02 * 0.01 * 8);  // BF16 keeps ~3 significant digits
    EXPECT_GT(diff, 0.0);
}

}  // namespace
}  // namespace itera
