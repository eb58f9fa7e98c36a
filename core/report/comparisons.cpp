#include <algorithm>
#include <filesystem>
#include <map>

#include "report/markdown.h"
#include "report/sections.h"

namespace itera::report_detail {
namespace {

nlohmann::json settings_of(const GenerationRecord& g) {
    try {
        return nlohmann::json::parse(g.settings);
    } catch (const std::exception&) {
        return nlohmann::json::object();
    }
}

/// Pairs of playground generations, oldest first. The playground tags both
/// panes of one Generate with the same "pair" key; records made before that
/// key existed pair by adjacency (consecutive ids, same prompt, two models).
std::vector<std::pair<GenerationRecord, GenerationRecord>> playground_pairs(
    std::vector<GenerationRecord> all) {
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    std::vector<std::pair<GenerationRecord, GenerationRecord>> pairs;
    std::map<std::string, std::size_t> first_of_pair;
    for (std::size_t i = 0; i < all.size(); ++i) {
        const auto s = settings_of(all[i]);
        if (s.value("source", std::string()) != "playground") continue;
        if (s.contains("pair") && s["pair"].is_string()) {
            const auto key = s["pair"].get<std::string>();
            auto it = first_of_pair.find(key);
            if (it == first_of_pair.end())
                first_of_pair[key] = i;
            else
                pairs.emplace_back(all[it->second], all[i]);
            continue;
        }
        if (i + 1 < all.size() && all[i + 1].id == all[i].id + 1 &&
            all[i + 1].prompt == all[i].prompt && all[i + 1].model_path != all[i].model_path) {
            const auto t = settings_of(all[i + 1]);
            if (t.value("source", std::string()) == "playground" && !t.contains("pair")) {
                pairs.emplace_back(all[i], all[i + 1]);
                ++i;
            }
        }
    }
    return pairs;
}

/// Length in bytes of the common prefix, backed off to a UTF-8 character start.
std::size_t common_prefix(const std::string& a, const std::string& b) {
    std::size_t n = 0;
    while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
    while (n > 0 && n < a.size() && (static_cast<unsigned char>(a[n]) & 0xc0) == 0x80) --n;
    return n;
}

std::size_t characters(std::string_view s) {
    return static_cast<std::size_t>(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xc0) != 0x80; }));
}

std::string model_name(const GenerationRecord& g) {
    std::string name = std::filesystem::path(g.model_path).filename().string();
    if (g.run_id) name += " (run " + std::to_string(*g.run_id) + ")";
    return md::escape(name);
}

std::string sampling_line(const nlohmann::json& s) {
    std::string out;
    auto add = [&](const char* key, const char* label) {
        if (!s.contains(key) || !s[key].is_number()) return;
        out += (out.empty() ? "" : ", ") + std::string(label) + " " +
               (s[key].is_number_integer() ? std::to_string(s[key].get<long long>())
                                           : md::fixed(s[key].get<double>(), 2));
    };
    add("temperature", "temperature");
    add("top_k", "top-k");
    add("top_p", "top-p");
    add("min_p", "min-p");
    add("repeat_penalty", "repetition penalty");
    add("seed", "seed");
    add("max_tokens", "max tokens");
    return out;
}

}  // namespace

ComparisonsSection comparisons_section(
    RunStore& store,
    const std::function<bool(std::optional<std::int64_t>, const std::string&)>& involves) {
    constexpr std::size_t kShown = 5;
    constexpr std::size_t kInline = 600;  // characters of an output shown in the section
    ComparisonsSection section;
    int appended = 0;
    // An output as the section shows it: whole, or clipped and whole in the appendix.
    auto shown = [&](const std::string& output, const std::string& title) {
        if (characters(output) <= kInline) return md::code_block(output);
        const auto label = "A." + std::to_string(++appended);
        if (section.appendix.empty())
            section.appendix =
                "## Appendix: full playground outputs\n\nThe outputs clipped above, whole.\n\n";
        section.appendix += "### " + label + " " + title + "\n\n" + md::code_block(output) + "\n";
        return md::code_block(md::clip(output, kInline)) + "\n*Clipped: the whole output (" +
               md::commas(characters(output)) + " characters) is " + label +
               " in [the appendix](#appendix-full-playground-outputs).*\n";
    };
    std::vector<std::pair<GenerationRecord, GenerationRecord>> chosen;
    for (const auto& p : playground_pairs(store.generations(100000)))
        if (involves(p.first.run_id, p.first.model_path) ||
            involves(p.second.run_id, p.second.model_path))
            chosen.push_back(p);
    std::string& out = section.body;
    out = "## Playground comparisons\n\n";
    if (chosen.empty()) {
        out +=
            "No side-by-side generations with this model are stored (the workbench's "
            "Playground tab saves each one).\n\n";
        return section;
    }
    std::reverse(chosen.begin(), chosen.end());
    if (chosen.size() > kShown)
        out += "The newest " + std::to_string(kShown) + " of " + std::to_string(chosen.size()) +
               " stored comparisons.\n\n";
    for (std::size_t i = 0; i < std::min(kShown, chosen.size()); ++i) {
        const auto& [a, b] = chosen[i];
        const auto sa = settings_of(a), sb = settings_of(b);
        out += "### “" + md::escape(md::clip(a.prompt, 60)) + "” (" + md::escape(a.created_at) +
               ")\n\n";
        out += "Prompt:\n\n" + md::code_block(a.prompt) + "\n";
        const auto sampling = sampling_line(sa);
        if (!sampling.empty()) out += "Sampling: " + sampling + ".\n\n";
        out +=
            md::table({"", "Model A", "Model B"},
                      {{"Model", model_name(a), model_name(b)},
                       {"Tokens", std::to_string(a.tokens), std::to_string(b.tokens)},
                       {"Stopped by", md::code(sa.value("stop_reason", std::string("?"))),
                        md::code(sb.value("stop_reason", std::string("?")))},
                       {"Decode tok/s", md::fixed(sa.value("decode_tokens_per_s", std::nan("")), 0),
                        md::fixed(sb.value("decode_tokens_per_s", std::nan("")), 0)}},
                      "lll");
        const auto n = common_prefix(a.output, b.output);
        if (a.output == b.output)
            out += "\nThe two outputs are identical (" + md::commas(characters(a.output)) +
                   " characters).\n\n";
        else
            out += "\nFirst divergence: after " + md::commas(characters(a.output.substr(0, n))) +
                   " identical characters, A continues “" +
                   md::escape(md::clip(a.output.substr(n), 30)) + "” and B “" +
                   md::escape(md::clip(b.output.substr(n), 30)) + "”.\n\n";
        const auto prompt = "“" + md::escape(md::clip(a.prompt, 60)) + "”";
        out += "Model A:\n\n" + shown(a.output, "Model A, " + prompt) + "\nModel B:\n\n" +
               shown(b.output, "Model B, " + prompt) + "\n";
    }
    return section;
}

}  // namespace itera::report_detail
