#include "infer/inference_model.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstring>

#include "format/safetensors.h"
#include "infer/decode_kernels.h"
#include "infer/file_source.h"
#include "model/checkpoint.h"
#include "model/itera_model.h"
#include "tokenizer/stored_tokenizer.h"
#include "util/error.h"

namespace itera {

struct InferenceModel::Impl {
    IteraModel model{nullptr};
    ModelConfig config;
    std::shared_ptr<const Tokenizer> tokenizer;
    std::shared_ptr<const DecodeModel> decode;
    std::map<std::string, std::string> metadata;
    std::filesystem::path path;
};

namespace {

constexpr std::int64_t kPrefillChunk = 4096;  // tokens per forward: bounds activation memory
constexpr std::int64_t kAttentionChunk = 512;
// Shorter prompts are stepped through the decoder: measured with `itera bench
// decode --prompt-tokens N`, a batched forward has a fixed cost of ~3 ms
// (~35 decoder steps) on the quality preset.
constexpr std::int64_t kStepPrefillBelow = 40;

std::shared_ptr<const DecodeModel> layout_for_decoding(const IteraModel& model) {
    std::map<std::string, torch::Tensor> named;
    for (auto& [name, t] : model->spec_parameters()) named[name] = t.detach().contiguous();
    auto find = [&](const std::string& name, std::int64_t numel) -> const torch::Tensor& {
        auto it = named.find(name);
        if (it == named.end()) throw Error("decode layout: the model has no tensor " + name);
        if (it->second.numel() != numel || it->second.scalar_type() != torch::kFloat)
            throw Error("decode layout: " + name + " is not " + std::to_string(numel) + " floats");
        return it->second;
    };
    DecodeTensorSource src;
    src.matrix = [&](const std::string& name, std::int64_t rows, std::int64_t cols) {
        return make_f32_matrix(find(name, rows * cols).data_ptr<float>(), rows, cols);
    };
    src.vector = [&](const std::string& name, std::int64_t n) {
        const float* p = find(name, n).data_ptr<float>();
        return std::vector<float>(p, p + n);
    };
    return build_decode_model(model->config(), src);
}

/// LibTorch's first forward in a process allocates and starts its thread
/// pool (tens of ms); doing it at load keeps that out of the first prompt.
void warm_up(IteraModel& model) {
    torch::NoGradGuard no_grad;
    auto state = model->initial_state(1);
    model->forward_hidden(torch::zeros({1, 8}, torch::kLong), &state);
}

}  // namespace

InferenceModel::InferenceModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
InferenceModel::~InferenceModel() = default;

std::shared_ptr<const InferenceModel> InferenceModel::load(const std::filesystem::path& path) {
    {
        auto file = SafetensorsFile::read(path);
        if (file.meta("quantization") != "none") return load_compressed(file, path);
    }
    auto loaded = load_checkpoint(path);
    auto impl = std::make_unique<Impl>();
    impl->model = loaded.model;
    impl->model->eval();
    impl->config = loaded.model->config();
    impl->metadata = loaded.metadata;
    impl->path = path;
    impl->tokenizer = checkpoint_tokenizer(loaded, path);
    if (impl->tokenizer && impl->tokenizer->vocab_size() > impl->config.vocab_size)
        throw Error(path.string() + ": the tokenizer has " +
                    std::to_string(impl->tokenizer->vocab_size()) + " ids but the model only " +
                    std::to_string(impl->config.vocab_size));
    impl->decode = layout_for_decoding(impl->model);
    warm_up(impl->model);
    return std::shared_ptr<const InferenceModel>(new InferenceModel(std::move(impl)));
}

std::shared_ptr<const InferenceModel> InferenceModel::load_compressed(
    const SafetensorsFile& file, const std::filesystem::path& path) {
    const auto& origin = file.origin();
    if (file.meta("format") != "itera-lite" || file.meta("format_version") != "2")
        throw Error(origin + ": not an itera-lite v2 checkpoint");
    auto impl = std::make_unique<Impl>();
    try {
        impl->config = ModelConfig::from_json(file.meta("config")).resolved();
    } catch (const Error& e) {
        throw Error(origin + ": " + e.what());
    }
    impl->metadata = file.metadata();
    impl->path = path;
    impl->tokenizer = stored_tokenizer(file.meta("tokenizer"), path);
    if (impl->tokenizer && impl->tokenizer->vocab_size() > impl->config.vocab_size)
        throw Error(origin + ": the tokenizer has " +
                    std::to_string(impl->tokenizer->vocab_size()) + " ids but the model only " +
                    std::to_string(impl->config.vocab_size));
    impl->decode = decode_model_from_file(file, impl->config);
    return std::shared_ptr<const InferenceModel>(new InferenceModel(std::move(impl)));
}

bool InferenceModel::compressed() const {
    return !impl_->model;
}

std::shared_ptr<const InferenceModel> InferenceModel::initialised(const ModelConfig& config,
                                                                  std::uint64_t seed) {
    auto impl = std::make_unique<Impl>();
    impl->model = IteraModel(config);
    impl->model->initialize(seed);
    impl->model->eval();
    impl->config = impl->model->config();
    impl->decode = layout_for_decoding(impl->model);
    return std::shared_ptr<const InferenceModel>(new InferenceModel(std::move(impl)));
}

const ModelConfig& InferenceModel::config() const {
    return impl_->config;
}
const std::shared_ptr<const Tokenizer>& InferenceModel::tokenizer() const {
    return impl_->tokenizer;
}
const std::shared_ptr<const DecodeModel>& InferenceModel::decode_model() const {
    return impl_->decode;
}
const std::map<std::string, std::string>& InferenceModel::metadata() const {
    return impl_->metadata;
}
const std::filesystem::path& InferenceModel::path() const {
    return impl_->path;
}

const Tokenizer& InferenceModel::require_tokenizer() const {
    if (!impl_->tokenizer)
        throw Error((impl_->path.empty() ? std::string("the model") : impl_->path.string()) +
                    ": the checkpoint has no tokenizer attached (it was written by `itera model "
                    "init`); train it or use a checkpoint from a run");
    return *impl_->tokenizer;
}

std::vector<float> InferenceModel::prefill(Decoder& decoder, std::int64_t b,
                                           const std::vector<std::int32_t>& ids) const {
    const auto& c = impl_->config;
    if (ids.empty()) throw Error("prefill: no tokens to absorb");
    if (&decoder.model() != impl_->decode.get())
        throw Error("prefill: the decoder belongs to another model");
    for (auto id : ids)
        if (id < 0 || id >= c.vocab_size)
            throw Error("prefill: token id " + std::to_string(id) + " is outside [0, " +
                        std::to_string(c.vocab_size) + ")");
    const auto n = static_cast<std::int64_t>(ids.size());
    // Compressed models (no LibTorch model) and short prompts go through the
    // decoder's own batched absorb; a LibTorch forward costs ~3 ms whatever its length.
    // A Transformer's cache is filled by absorb too: its chunks are batched products.
    if (n < kStepPrefillBelow || !impl_->model || c.is_transformer()) {
        const float* logits = decoder.absorb(b, ids.data(), n);
        return {logits, logits + c.vocab_size};
    }
    torch::NoGradGuard no_grad;
    const auto L = c.num_layers, di = c.inner_size(), N = c.ssm_state_size, K = c.ssm_conv_kernel;
    DecodeState state;
    for (std::int64_t l = 0; l < L;
         ++l) {  // the decoder's state: (1, K-1, di); h (N, di) → (1, di, N)
        LayerState s;
        s.conv_tail = torch::from_blob(decoder.conv_tail(l, b), {1, K - 1, di}).clone();
        s.h = torch::from_blob(decoder.scan_state(l, b), {1, N, di}).transpose(1, 2).contiguous();
        state.layers.push_back(std::move(s));
    }
    state.position = decoder.position(b);
    torch::Tensor last;
    for (std::int64_t start = 0; start < n; start += kPrefillChunk) {
        const auto len = std::min(kPrefillChunk, n - start);
        auto tokens = torch::empty({1, len}, torch::kLong);
        std::copy_n(ids.begin() + start, len, tokens.data_ptr<std::int64_t>());
        auto hidden = impl_->model->forward_hidden(tokens, &state).hidden;  // (1, len, d)
        last = hidden.select(1, len - 1);                                   // (1, d)
    }
    for (std::int64_t l = 0; l < L; ++l) {
        auto conv = state.layers[static_cast<std::size_t>(l)].conv_tail.contiguous();
        auto h =
            state.layers[static_cast<std::size_t>(l)].h.transpose(1, 2).contiguous();  // (1, N, di)
        std::memcpy(decoder.conv_tail(l, b), conv.data_ptr<float>(),
                    static_cast<std::size_t>(conv.numel()) * sizeof(float));
        std::memcpy(decoder.scan_state(l, b), h.data_ptr<float>(),
                    static_cast<std::size_t>(h.numel()) * sizeof(float));
    }
    decoder.set_position(b, decoder.position(b) + n);
    // The tied head on the last position only, with the decoder's kernel (a
    // LibTorch matmul here would re-pack the whole embedding on every call).
    auto h = last.contiguous();
    std::vector<float> logits(static_cast<std::size_t>(c.vocab_size));
    const Matrix& head = *impl_->decode->embed;
    head.multiply(h.data_ptr<float>(), 1, logits.data(), 0, head.rows());
    return logits;
}

std::vector<float> InferenceModel::log_probs(const std::vector<std::int32_t>& ids) const {
    const auto& c = impl_->config;
    if (ids.empty()) throw Error("log_probs: no tokens");
    for (auto id : ids)
        if (id < 0 || id >= c.vocab_size)
            throw Error("log_probs: token id " + std::to_string(id) + " is outside [0, " +
                        std::to_string(c.vocab_size) + ")");
    const auto n = static_cast<std::int64_t>(ids.size());
    std::vector<float> out(static_cast<std::size_t>(n * c.vocab_size));
    if (!impl_->model) {  // a compressed model: the decoder, every position's logits
        Decoder dec(impl_->decode, 1);
        const auto V = c.vocab_size;
        dec.absorb(0, ids.data(), n, [&](std::int64_t first, std::int64_t count, const float* l) {
            for (std::int64_t t = 0; t < count; ++t) {
                const float* logits = l + t * V;
                const float lse = decode::log_sum_exp(logits, V);
                float* row = out.data() + (first + t) * V;
                for (std::int64_t v = 0; v < V; ++v) row[v] = logits[v] - lse;
            }
        });
        return out;
    }
    torch::NoGradGuard no_grad;
    DecodeState state = impl_->model->initial_state(1);
    // Attention's scores are chunk × (chunk + cache) per head: shorter chunks.
    const auto chunk = c.is_transformer() ? kAttentionChunk : kPrefillChunk;
    for (std::int64_t start = 0; start < n; start += chunk) {
        const auto len = std::min(chunk, n - start);
        auto tokens = torch::empty({1, len}, torch::kLong);
        std::copy_n(ids.begin() + start, len, tokens.data_ptr<std::int64_t>());
        auto logits = impl_->model->forward(tokens, &state).logits.squeeze(0);  // (len, V)
        auto lp = torch::log_softmax(logits, -1).contiguous();
        std::memcpy(out.data() + start * c.vocab_size, lp.data_ptr<float>(),
                    static_cast<std::size_t>(lp.numel()) * sizeof(float));
    }
    return out;
}

}  // namespace itera
