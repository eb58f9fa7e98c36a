// The selective-scan and conv kernels against plain-loop references in double.
// Tolerances: forward 2e-5 and gradients 5e-4, relative to the reference's
// largest magnitude (float32 kernels vs a float64 reference).

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>

#include "model/ops.h"
#include "reference_model.h"
#include "util/error.h"

namespace itera {
namespace {

using torch::Tensor;

double rel_err(const Tensor& got, const Tensor& want) {
    auto w = want.to(torch::kDouble);
    double scale = std::max(1e-6, w.abs().max().item<double>());
    return (got.to(torch::kDouble) - w).abs().max().item<double>() / scale;
}

struct ScanInputs {
    Tensor u, delta, bias, A_log, Bm, Cm, D, z;
    std::vector<Tensor> all() const { return {u, delta, bias, A_log, Bm, Cm, D, z}; }
};

ScanInputs make_inputs(int64_t B, int64_t T, int64_t C, int64_t N, uint64_t seed) {
    torch::manual_seed(seed);
    ScanInputs in;
    in.u = torch::randn({B, T, C}, torch::kDouble);
    in.delta = torch::randn({B, T, C}, torch::kDouble) * 0.5 - 1.0;
    in.bias = torch::randn({C}, torch::kDouble) * 0.5;
    in.A_log = torch::log(torch::arange(1, N + 1, torch::kDouble)).unsqueeze(0).repeat({C, 1}) +
               0.1 * torch::randn({C, N}, torch::kDouble);
    in.Bm = torch::randn({B, T, N}, torch::kDouble);
    in.Cm = torch::randn({B, T, N}, torch::kDouble);
    in.D = torch::randn({C}, torch::kDouble);
    in.z = torch::randn({B, T, C}, torch::kDouble);
    return in;
}

Tensor reference(const std::vector<Tensor>& x) {
    auto dt = torch::log1p(torch::exp(x[1] + x[2]));
    auto y = testing::reference_scan(x[0], dt, -torch::exp(x[3]), x[4], x[5], x[6]);
    return y * x[7] * torch::sigmoid(x[7]);  // the mixer's gate y ⊙ silu(z)
}

class ScanShapes : public ::testing::TestWithParam<std::tuple<int, int, int, int>> {};

TEST_P(ScanShapes, ForwardAndGradientsMatchPlainLoop) {
    auto [B, T, C, N] = GetParam();
    auto in = make_inputs(B, T, C, N, 1000 + B * 7 + T * 13 + C * 17 + N);
    std::vector<Tensor> ref_in, fast_in;
    for (const auto& t : in.all()) {
        ref_in.push_back(t.clone().requires_grad_(true));
        fast_in.push_back(t.to(torch::kFloat).requires_grad_(true));
    }
    auto y_ref = reference(ref_in);
    auto y = selective_scan(fast_in[0], fast_in[1], fast_in[2], fast_in[3], fast_in[4], fast_in[5],
                            fast_in[6], fast_in[7]);
    double fwd = rel_err(y, y_ref);
    auto gy = torch::randn_like(y_ref);
    (y_ref * gy).sum().backward();
    (y * gy.to(torch::kFloat)).sum().backward();
    const char* names[] = {"u", "delta", "delta_bias", "A_log", "B", "C", "D", "z"};
    double worst = 0;
    for (size_t i = 0; i < ref_in.size(); ++i) {
        double e = rel_err(fast_in[i].grad(), ref_in[i].grad());
        worst = std::max(worst, e);
        EXPECT_LT(e, 5e-4) << "gradient of " << names[i];
    }
    std::printf("scan B=%d T=%d C=%d N=%d: forward rel err %.2e, worst gradient rel err %.2e\n", B,
                T, C, N, fwd, worst);
    EXPECT_LT(fwd, 2e-5);
}

INSTANTIATE_TEST_SUITE_P(Shapes, ScanShapes,
                         ::testing::Values(std::make_tuple(1, 1, 1, 1), std::make_tuple(2, 5, 3, 4),
                                           std::make_tuple(3, 17, 40, 8),
                                           std::make_tuple(2, 33, 64, 16),
                                           std::make_tuple(1, 64, 33, 5)));

TEST(Scan, ReferenceItselfPassesDoubleGradcheck) {
    // The reference's autograd gradients equal central finite differences, so
    // comparing the kernel's gradients against them is meaningful.
    auto in = make_inputs(1, 4, 3, 2, 7);
    std::vector<Tensor> x;
    for (const auto& t : in.all()) x.push_back(t.clone().requires_grad_(true));
    auto y = reference(x);
    auto gy = torch::randn_like(y);
    (y * gy).sum().backward();
    const double h = 1e-6;
    for (size_t i = 0; i < x.size(); ++i) {
        auto flat = x[i].detach().view(-1);
        for (int64_t j = 0; j < flat.numel(); ++j) {
            auto plus = in.all(), minus = in.all();
            plus[i] = plus[i].clone();
            minus[i] = minus[i].clone();
            plus[i].view(-1)[j] += h;
            minus[i].view(-1)[j] -= h;
            double fd = ((reference(plus) - reference(minus)) * gy).sum().item<double>() / (2 * h);
            EXPECT_NEAR(x[i].grad().view(-1)[j].item<double>(), fd, 1e-6 * (1 + std::abs(fd)))
                << "input " << i << " element " << j;
        }
    }
}

TEST(Scan, UngatedMatchesPlainLoop) {
    auto in = make_inputs(2, 9, 35, 4, 21);
    auto f = [](const Tensor& t) { return t.to(torch::kFloat); };
    auto dt = torch::log1p(torch::exp(in.delta + in.bias));
    auto ref = testing::reference_scan(in.u, dt, -torch::exp(in.A_log), in.Bm, in.Cm, in.D);
    auto y =
        selective_scan(f(in.u), f(in.delta), f(in.bias), f(in.A_log), f(in.Bm), f(in.Cm), f(in.D));
    EXPECT_LT(rel_err(y, ref), 2e-5);
}

TEST(Scan, StatefulChunksEqualOneLongScan) {
    auto in = make_inputs(2, 24, 40, 8, 3);
    auto f = [](const Tensor& t) { return t.to(torch::kFloat); };
    torch::NoGradGuard ng;
    auto full = selective_scan(f(in.u), f(in.delta), f(in.bias), f(in.A_log), f(in.Bm), f(in.Cm),
                               f(in.D), f(in.z));
    auto h = torch::zeros({2, 40, 8});
    std::vector<Tensor> parts;
    for (int64_t start : {0, 10, 11, 20}) {
        int64_t len = (start == 0 ? 10 : start == 10 ? 1 : start == 11 ? 9 : 4);
        auto sl = [&](const Tensor& t) { return f(t).narrow(1, start, len); };
        parts.push_back(selective_scan_stateful(sl(in.u), sl(in.delta), f(in.bias), f(in.A_log),
                                                sl(in.Bm), sl(in.Cm), f(in.D), h, sl(in.z)));
    }
    EXPECT_LT(rel_err(torch::cat(parts, 1), full), 1e-6);
}

TEST(Conv, ForwardAndGradientsMatchConv1d) {
    torch::manual_seed(5);
    const int64_t B = 3, T = 11, C = 70, K = 4;
    auto xz = torch::randn({B, T, 2 * C}, torch::kDouble);
    auto w = torch::randn({C, 1, K}, torch::kDouble);
    auto b = torch::randn({C}, torch::kDouble);
    auto x_ref = xz.clone().requires_grad_(true), w_ref = w.clone().requires_grad_(true),
         b_ref = b.clone().requires_grad_(true);
    auto xin = x_ref.narrow(2, 0, C).transpose(1, 2);  // (B, C, T)
    auto padded =
        torch::nn::functional::pad(xin, torch::nn::functional::PadFuncOptions({K - 1, 0}));
    auto y_ref = torch::silu(torch::nn::functional::conv1d(
                                 padded, w_ref,
                                 torch::nn::functional::Conv1dFuncOptions().bias(b_ref).groups(C)))
                     .transpose(1, 2);
    auto x_f = xz.to(torch::kFloat).requires_grad_(true),
         w_f = w.to(torch::kFloat).requires_grad_(true),
         b_f = b.to(torch::kFloat).requires_grad_(true);
    auto y = causal_conv_silu(x_f.narrow(2, 0, C), w_f, b_f);  // strided rows, read in place
    EXPECT_LT(rel_err(y, y_ref), 2e-6);
    auto gy = torch::randn_like(y_ref);
    (y_ref * gy).sum().backward();
    (y * gy.to(torch::kFloat)).sum().backward();
    EXPECT_LT(rel_err(x_f.grad(), x_ref.grad()), 1e-5);
    EXPECT_LT(rel_err(w_f.grad(), w_ref.grad()), 1e-5);
    EXPECT_LT(rel_err(b_f.grad(), b_ref.grad()), 1e-5);
}

TEST(Conv, StatefulStepsEqualFullSequence) {
    torch::manual_seed(6);
    const int64_t B = 2, T = 9, C = 20, K = 4;
    auto x = torch::randn({B, T, C}), w = torch::randn({C, 1, K}), b = torch::randn({C});
    torch::NoGradGuard ng;
    auto full = causal_conv_silu(x, w, b);
    auto tail = torch::zeros({B, K - 1, C});
    std::vector<Tensor> parts;
    for (int64_t t = 0; t < T; ++t)
        parts.push_back(causal_conv_silu_stateful(x.narrow(1, t, 1), w, b, tail));
    EXPECT_LT(rel_err(torch::cat(parts, 1), full), 1e-6);
}

TEST(CrossEntropy, MatchesLibTorchWithIgnoredRows) {
    torch::manual_seed(12);
    const int64_t M = 37, V = 301;
    auto logits = (torch::randn({M, V}, torch::kDouble) * 3).requires_grad_(true);
    auto targets = torch::randint(V, {M}, torch::kLong);
    targets.narrow(0, 5, 4).fill_(7);  // id 7 plays padding
    auto ref = torch::nn::functional::cross_entropy(
        logits, targets, torch::nn::functional::CrossEntropyFuncOptions().ignore_index(7));
    auto lf = logits.detach().to(torch::kFloat).requires_grad_(true);
    auto got = cross_entropy(lf, targets, 7);
    EXPECT_NEAR(got.item<double>(), ref.item<double>(), 1e-5);
    ref.backward();
    (got * 2.0).backward();  // the incoming gradient scales the result
    EXPECT_LT(rel_err(lf.grad(), logits.grad() * 2.0), 1e-5);
    EXPECT_TRUE(torch::all(lf.grad().narrow(0, 5, 4) == 0).item<bool>());
    EXPECT_THROW(cross_entropy(lf, torch::full({M}, V, torch::kLong), -1), Error);
    EXPECT_THROW(cross_entropy(lf, torch::full({M}, 7, torch::kLong), 7), Error);
}

TEST(HeadLoss, ChunkedTiedHeadMatchesFullLogits) {
    torch::manual_seed(13);
    const int64_t M = 100, d = 16, V = 40000;  // 2^20 / V = 26 -> 32-row chunks: 4 of them
    auto x = torch::randn({M, d}, torch::kDouble).requires_grad_(true);
    auto W = (torch::randn({V, d}, torch::kDouble) * 0.3).requires_grad_(true);
    auto targets = torch::randint(V, {M}, torch::kLong);
    targets.narrow(0, 40, 3).fill_(5);
    auto ref = torch::nn::functional::cross_entropy(
        torch::matmul(x, W.t()), targets,
        torch::nn::functional::CrossEntropyFuncOptions().ignore_index(5));
    auto xf = x.detach().to(torch::kFloat).requires_grad_(true);
    auto Wf = W.detach().to(torch::kFloat).requires_grad_(true);
    auto got = tied_head_cross_entropy(xf, Wf, targets, 5);
    EXPECT_NEAR(got.item<double>(), ref.item<double>(), 1e-5);
    ref.backward();
    (got * 3.0).backward();
    EXPECT_LT(rel_err(xf.grad(), x.grad() * 3.0), 1e-5);
    EXPECT_LT(rel_err(Wf.grad(), W.grad() * 3.0), 1e-5);
    {
        torch::NoGradGuard ng;  // evaluation: loss only, no gradient work
        EXPECT_NEAR(tied_head_cross_entropy(xf, Wf, targets, 5).item<double>(), ref.item<double>(),
                    1e-5);
    }
}

// BF16 products: the same maths on inputs rounded to BF16 (and, as oneDNN
// returns them, results rounded to BF16), against that computed in double.
// Tolerance 1e-2 relative: BF16 keeps 8 significant bits (2^-9 ≈ 0.2 %).
TEST(Bf16Gemms, ProductsUseRoundedInputsAndTheBackwardFollowsTheForward) {
    torch::manual_seed(21);
    auto round = [](const Tensor& t) { return t.to(torch::kBFloat16).to(torch::kDouble); };
    auto x = torch::randn({3, 20, 48});
    auto w = torch::randn({40, 48}) * 0.2;
    auto g = torch::randn({3, 20, 40});
    auto xf = x.clone().requires_grad_(true), wf = w.clone().requires_grad_(true);
    Tensor y;
    {
        const Bf16Gemms on;
        EXPECT_TRUE(Bf16Gemms::active());
        {
            const Bf16Gemms off(false);
            EXPECT_FALSE(Bf16Gemms::active());
        }
        EXPECT_TRUE(Bf16Gemms::active());
        y = linear_map(xf, wf);
    }
    EXPECT_FALSE(Bf16Gemms::active());
    (y * g).sum().backward();  // after the scope: the backward still uses BF16
    auto xr = round(x), wr = round(w), gr = round(g);
    const double fwd = rel_err(y, torch::matmul(xr, wr.t()));
    const double dx = rel_err(xf.grad(), torch::matmul(gr, wr));
    const double dw =
        rel_err(wf.grad(), torch::matmul(gr.reshape({-1, 40}).t(), xr.reshape({-1, 48})));
    std::printf("bf16 linear: relative error forward %.1e, dx %.1e, dw %.1e\n", fwd, dx, dw);
    EXPECT_LT(fwd, 1e-2);
    EXPECT_LT(dx, 1e-2);
    EXPECT_LT(dw, 1e-2);
    EXPECT_EQ(y.scalar_type(), torch::kFloat);
    EXPECT_EQ(xf.grad().scalar_type(), torch::kFloat);
    // The FP32 path would be far closer to the unrounded product: BF16 really ran.
    EXPECT_GT(rel_err(y, torch::matmul(x.to(torch::kDouble), w.to(torch::kDouble).t())), 1e-4);

    // The tied head + cross-entropy: logits from rounded inputs, CE in FP32.
    const int64_t M = 70, d = 32, V = 300;
    auto hx = torch::randn({M, d}), hW = torch::randn({V, d}) * 0.3;
    auto targets = torch::randint(V, {M}, torch::kLong);
    auto hxr = round(hx).requires_grad_(true), hWr = round(hW).requires_grad_(true);
    auto ref = torch::nn::functional::cross_entropy(torch::matmul(hxr, hWr.t()), targets);
    ref.backward();
    auto hxf = hx.clone().requires_grad_(true), hWf = hW.clone().requires_grad_(true);
    Tensor loss;
    {
        const Bf16Gemms on;
        loss = tied_head_cross_entropy(hxf, hWf, targets, -1);
        loss.backward();
    }
    std::printf("bf16 head: loss %.6f vs %.6f, dx %.1e, dW %.1e\n", loss.item<double>(),
                ref.item<double>(), rel_err(hxf.grad(), hxr.grad()),
                rel_err(hWf.grad(), hWr.grad()));
    EXPECT_NEAR(loss.item<double>(), ref.item<double>(), 1e-3 * ref.item<double>());
    EXPECT_LT(rel_err(hxf.grad(), hxr.grad()), 1e-2);
    EXPECT_LT(rel_err(hWf.grad(), hWr.grad()), 1e-2);
}

TEST(SplitLast, PiecesAndGradientsAreExact) {
    auto x = torch::randn({2, 3, 10}, torch::kDouble).requires_grad_(true);
    auto parts = split_last(x, {4, 1, 5});
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_TRUE(torch::equal(parts[2], x.narrow(2, 5, 5)));
    EXPECT_TRUE(parts[1].is_contiguous());
    (parts[0].sum() * 2 + parts[2].pow(2).sum()).backward();  // parts[1] unused: zero gradient
    auto want =
        torch::cat({torch::full({2, 3, 4}, 2.0, torch::kDouble),
                    torch::zeros({2, 3, 1}, torch::kDouble), 2 * x.detach().narrow(2, 5, 5)},
                   2);
    EXPECT_TRUE(torch::allclose(x.grad(), want));
}

}  // namespace
}  // namespace itera
