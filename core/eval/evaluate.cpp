#include "eval/evaluate.h"

#include <chrono>
#include <cmath>
#include <vector>

#include "util/error.h"

namespace itera {

EvalTokens eval_tokens(const TokenStream& stream, const Tokenizer& tokenizer,
                       std::uint64_t stream_bytes, std::int64_t max_tokens) {
    if (stream.size() == 0) throw Error("evaluation: the split has no tokens");
    if (max_tokens < 1) throw Error("evaluation: max_tokens must be positive");
    const std::int64_t eos = tokenizer.eos_id();
    auto n = static_cast<std::int64_t>(
        std::min<std::uint64_t>(stream.size(), static_cast<std::uint64_t>(max_tokens)));
    const bool whole = static_cast<std::uint64_t>(n) == stream.size();
    EvalTokens r;
    // [EOS] + tokens: window w covers ids[w·T .. w·T + T] and predicts ids[w·T+1 ..].
    r.ids.resize(static_cast<std::size_t>(n) + 1);
    r.ids[0] = eos;
    stream.copy(0, static_cast<std::uint64_t>(n), r.ids.data() + 1);
    if (whole) {
        r.bytes = stream_bytes;
        return r;
    }
    std::int64_t end = n;  // keep whole documents so the byte count is exact
    while (end > 0 && r.ids[static_cast<std::size_t>(end)] != eos) --end;
    if (end > 0) n = end;
    r.ids.resize(static_cast<std::size_t>(n) + 1);
    std::vector<std::int32_t> doc;
    for (std::int64_t i = 1; i <= n; ++i) {
        const auto id = static_cast<std::int32_t>(r.ids[static_cast<std::size_t>(i)]);
        if (id == eos) {
            r.bytes += tokenizer.decode(doc).size();
            doc.clear();
        } else {
            doc.push_back(id);
        }
    }
    r.bytes += tokenizer.decode(doc).size();
    return r;
}

EvalResult evaluate(IteraModel& model, const TokenStream& stream, const Tokenizer& tokenizer,
                    std::uint64_t stream_bytes, const EvalOptions& o) {
    const auto t0 = std::chrono::steady_clock::now();
    if (o.batch_size < 1 || o.seq_len < 1)
        throw Error("evaluation: max_tokens, batch_size and seq_len must be positive");
    const auto et = eval_tokens(stream, tokenizer, stream_bytes, o.max_tokens);
    const auto& ids = et.ids;
    const std::int64_t n = et.targets();
    EvalResult r;
    r.bytes = et.bytes;

    const bool was_training = model->is_training();
    model->eval();
    torch::NoGradGuard no_grad;
    if (o.parts < 1 || o.part < 0 || o.part >= o.parts || (o.parts > 1 && !o.sum_across))
        throw Error("evaluation: part " + std::to_string(o.part) + " of " +
                    std::to_string(o.parts) + " is not a split");
    std::int64_t done = 0;
    const std::int64_t T = o.seq_len;
    const std::int64_t full = n / T;  // windows of exactly T targets
    // Nats of each batch (0 for the batches another process evaluates).
    std::vector<double> batch_nats;
    auto run = [&](std::int64_t first_window, std::int64_t windows, std::int64_t len) {
        const auto index = static_cast<std::int64_t>(batch_nats.size());
        batch_nats.push_back(0);
        if (index % o.parts != o.part) return;
        auto batch = torch::empty({windows, len + 1}, torch::kLong);
        auto* p = batch.data_ptr<std::int64_t>();
        for (std::int64_t w = 0; w < windows; ++w)
            std::copy_n(ids.data() + (first_window + w) * T, len + 1, p + w * (len + 1));
        auto out = model->loss(batch);
        batch_nats.back() = out.ce.item<double>() * static_cast<double>(out.target_tokens);
        done += out.target_tokens;
        if (o.progress) o.progress(done, n);
        if (o.cancel && o.cancel->load()) {
            if (was_training) model->train();
            throw Error("cancelled");
        }
    };
    for (std::int64_t w = 0; w < full; w += o.batch_size)
        run(w, std::min(o.batch_size, full - w), T);
    if (n % T) run(full, 1, n % T);
    if (was_training) model->train();
    if (o.parts > 1) o.sum_across(batch_nats);
    double nats = 0;
    for (double b : batch_nats) nats += b;

    r.tokens = n;
    r.loss = nats / static_cast<double>(n);
    r.perplexity = std::exp(r.loss);
    r.bits_per_byte = r.bytes ? nats / std::log(2.0) / static_cast<double>(r.bytes) : 0.0;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

}  // namespace itera
