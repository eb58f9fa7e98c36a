// Data-parallel pieces against obvious references: gradients summed in buckets
// (a mirror "world" of two identical ranks must give exactly twice each
// gradient), an evaluation split over two processes adding up to the whole bit
// for bit, and the Gloo group itself: two ranks in one process (two threads on
// loopback) summing, broadcasting rank 0's start, and naming a failure.

#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <thread>

#include "eval/eval_data.h"
#include "eval/evaluate.h"
#include "model/itera_model.h"
#include "temp_dir.h"
#include "train/data_parallel.h"
#include "train/gloo_group.h"
#include "train/optimizer.h"

namespace itera {
namespace {

// Rank 0 of two whose other rank holds exactly the same tensors.
class Mirror final : public Collective {
public:
    int rank() const override { return 0; }
    int world_size() const override { return 2; }
    void sum(std::vector<at::Tensor>& tensors) override {
        ++sums;
        for (auto& t : tensors) t.mul_(2);
    }
    void broadcast(std::vector<at::Tensor>&) override {}
    int sums = 0;
};

TEST(SumGradients, EveryGradientComesBackSummedWhateverTheBucketSize) {
    auto config = ModelConfig::preset("micro", 64);
    for (const std::int64_t bucket_bytes : {std::int64_t{1} << 10, std::int64_t{8} << 20}) {
        IteraModel model(config);
        model->initialize(3);
        auto batch = torch::randint(64, {2, 17}, torch::kLong);
        model->loss(batch).loss.backward();
        std::vector<torch::Tensor> before;
        std::size_t undefined = 0;
        for (const auto& p : model->parameters()) {
            before.push_back(p.grad().defined() ? p.grad().clone() : torch::Tensor());
            undefined += !p.grad().defined();
        }
        Mirror mirror;
        sum_gradients(mirror, model, bucket_bytes);
        const auto params = model->parameters();
        for (std::size_t i = 0; i < params.size(); ++i) {
            if (!before[i].defined()) {  // undefined on every rank: stays undefined
                EXPECT_FALSE(params[i].grad().defined());
                continue;
            }
            EXPECT_TRUE(torch::equal(params[i].grad(), before[i] * 2)) << "parameter " << i;
        }
        // One sum for the defined-gradient counts, then one per bucket: small
        // buckets make many.
        if (bucket_bytes == 1 << 10)
            EXPECT_GT(mirror.sums, 1);
        else
            EXPECT_EQ(mirror.sums, 2);
        (void)undefined;
    }
}

TEST(Evaluate, TwoHalvesOfASplitEvaluationAddUpToTheWholeBitForBit) {
    testing::TempDir dir;
    std::string text;
    for (int i = 0; i < 80; ++i)
        text += "words of a held out document number " + std::to_string(i) + ".\n\n";
    std::ofstream(dir.path() / "wiki.train.raw") << " = A = \n" << text;
    std::ofstream(dir.path() / "wiki.valid.raw") << " = B = \n" << text;
    auto tok = make_byte_tokenizer();
    auto data =
        prepare_eval_data(Workspace::at(dir.path()), dir.path().string(), CorpusFormat::Auto, *tok,
                          Split::Validation, CacheBuildOptions{}, dir.path() / "cache");
    IteraModel model(ModelConfig::preset("micro", tok->vocab_size()));
    model->initialize(2);
    EvalOptions whole;
    whole.batch_size = 2;
    whole.seq_len = 32;
    const auto expected = evaluate(model, *data.stream, *tok, data.bytes, whole);

    // Part 1 first, keeping its batch sums; part 0 then adds them as a sum
    // across the two processes would.
    std::vector<double> part1;
    auto half = whole;
    half.parts = 2;
    half.part = 1;
    half.sum_across = [&](std::vector<double>& v) { part1 = v; };
    evaluate(model, *data.stream, *tok, data.bytes, half);
    half.part = 0;
    half.sum_across = [&](std::vector<double>& v) {
        ASSERT_EQ(v.size(), part1.size());
        for (std::size_t i = 0; i < v.size(); ++i) {
            EXPECT_TRUE(v[i] == 0 || part1[i] == 0) << "batch " << i << " evaluated twice";
            v[i] += part1[i];
        }
    };
    const auto split = evaluate(model, *data.stream, *tok, data.bytes, half);
    EXPECT_GT(part1.size(), 4u);
    EXPECT_EQ(split.loss, expected.loss);
    EXPECT_EQ(split.bits_per_byte, expected.bits_per_byte);
    EXPECT_EQ(split.tokens, expected.tokens);

    half.sum_across = nullptr;
    EXPECT_THROW(evaluate(model, *data.stream, *tok, data.bytes, half), Error);
}

// Rank 1 in a thread of this process, connecting to rank 0's store.
template <class F>
auto as_rank1(int port, F body) {
    return std::async(std::launch::async, [port, body] {
        DistSettings s;
        s.port = port;
        s.rank = 1;
        s.world_size = 2;
        s.timeout_s = 20;
        GlooGroup group(s);
        group.join();
        return body(group);
    });
}

// Rank 0 of two, serving its store on a free port.
DistSettings rank0_of_two() {
    DistSettings s;
    s.port = 0;
    s.world_size = 2;
    s.timeout_s = 20;
    return s;
}

TEST(GlooGroup, TwoRanksSumBroadcastAndStartFromRankZerosModel) {
    GlooGroup rank0(rank0_of_two());
    auto config = ModelConfig::preset("micro", 64);
    auto other = as_rank1(rank0.port(), [config](GlooGroup& g) {
        std::vector<at::Tensor> t = {torch::full({3}, 2.5, torch::kDouble)};
        g.sum(t);
        IteraModel model(config);
        model->initialize(99);  // another start: replaced by rank 0's
        AdamW optimizer(model, {});
        TrainerState st;
        copy_start_from_rank0(g, model, optimizer, st);
        std::vector<torch::Tensor> weights;
        for (const auto& [name, p] : model->spec_parameters()) weights.push_back(p.clone());
        return std::make_tuple(t[0], weights, st.step, st.best_val_loss, optimizer.steps_taken());
    });
    rank0.join();
    std::vector<at::Tensor> t = {torch::full({3}, 0.5, torch::kDouble)};
    rank0.sum(t);
    EXPECT_TRUE(torch::equal(t[0], torch::full({3}, 3.0, torch::kDouble)));
    IteraModel model(config);
    model->initialize(5);
    AdamW optimizer(model, {});
    TrainerState st;
    st.step = 42;
    st.best_val_loss = 1.25;
    optimizer.load_state(optimizer.state(), 7);
    copy_start_from_rank0(rank0, model, optimizer, st);
    const auto [sum1, weights1, step1, best1, steps1] = other.get();
    EXPECT_TRUE(torch::equal(sum1, t[0]));
    const auto mine = model->spec_parameters();
    ASSERT_EQ(weights1.size(), mine.size());
    for (std::size_t i = 0; i < mine.size(); ++i)
        EXPECT_TRUE(torch::equal(weights1[i], mine[i].second)) << mine[i].first;
    EXPECT_EQ(step1, 42);
    EXPECT_EQ(best1, 1.25);
    EXPECT_EQ(steps1, 7);
}

TEST(GlooGroup, ARankThatLeavesIsNamedFromWhatItReported) {
    GlooGroup rank0(rank0_of_two());
    auto other = as_rank1(rank0.port(), [](GlooGroup& g) {
        g.report_failure("out of memory");
        return 0;  // leaves: its group is destroyed
    });
    rank0.join();
    other.get();
    std::vector<at::Tensor> t = {torch::ones({4})};
    try {
        rank0.sum(t);
        FAIL() << "a sum with a rank gone succeeded";
    } catch (const CollectiveError& e) {
        const auto why = rank0.describe_failure(e.what());
        EXPECT_NE(why.find("rank 1 failed: out of memory"), std::string::npos) << why;
    }
}

TEST(GlooGroup, NamesWhatIsWrongWithItsSettings) {
    DistSettings s;
    s.world_size = 2;
    s.rank = 2;
    EXPECT_THROW(GlooGroup{s}, Error);
    s.rank = 1;
    s.port = 0;  // a rank above 0 needs rank 0's port
    EXPECT_THROW(GlooGroup{s}, Error);
    s.rank = 1;
    s.port = 1;  // nothing listens there
    s.timeout_s = 1;
    EXPECT_THROW(GlooGroup{s}, CollectiveError);
}

}  // namespace
}  // namespace itera
