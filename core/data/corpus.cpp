#include "data/corpus.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>

#include "data/json_stories.h"
#include "data/utf8.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace itera {
namespace {

struct FormatName {
    CorpusFormat format;
    const char* name;
};
constexpr std::array<FormatName, 5> kFormats = {
    {{CorpusFormat::Auto, "auto"},
     {CorpusFormat::Text, "text"},
     {CorpusFormat::TinyStoriesText, "tinystories-txt"},
     {CorpusFormat::TinyStoriesJson, "tinystories-json"},
     {CorpusFormat::WikiText, "wikitext"}}};

constexpr std::size_t kMinBlockBytes = 8192;
constexpr const char* kEndOfText = "<|endoftext|>";

std::string head_of(const fs::path& file, std::size_t n) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(file.string() + ": cannot open for reading");
    std::string s(n, '\0');
    in.read(s.data(), static_cast<std::streamsize>(n));
    s.resize(static_cast<std::size_t>(in.gcount()));
    return s;
}

std::string trim(const std::string& s) {
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void check_text_file(const fs::path& file) {
    if (looks_binary(head_of(file, 1 << 16)))
        throw Error(file.string() + ": looks like a binary file, not text");
}

// Reads lines with their byte offsets, checking (or repairing) UTF-8.
class LineReader {
public:
    LineReader(const fs::path& file, const ReadOptions& options)
        : file_(file), in_(file, std::ios::binary), options_(options) {
        if (!in_) throw Error(file.string() + ": cannot open for reading");
    }
    bool next(std::string& line) {
        if (!std::getline(in_, line)) return false;
        const auto start = offset_;
        offset_ += line.size() + 1;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (auto bad = first_invalid_utf8(line)) {
            if (!options_.replace_invalid_utf8)
                throw Error(file_.string() + ": invalid UTF-8 at byte offset " +
                            std::to_string(start + *bad) +
                            " (use the replace option to substitute U+FFFD)");
            line = replace_invalid_utf8(line);
        }
        return true;
    }

private:
    fs::path file_;
    std::ifstream in_;
    ReadOptions options_;
    std::uint64_t offset_ = 0;
};

void emit(std::string& doc, const std::function<void(std::string&&)>& sink) {
    auto t = trim(doc);
    doc.clear();
    if (!t.empty()) sink(std::move(t));
}

bool is_wikitext_heading(const std::string& line) {
    // ` = Title = ` starts an article; ` = = Section = = ` does not.
    auto t = trim(line);
    return t.size() > 4 && t[0] == '=' && t[1] == ' ' && t[2] != '=' && ends_with(t, " =") &&
           t[t.size() - 3] != '=';
}

}  // namespace

std::string corpus_format_name(CorpusFormat f) {
    for (const auto& x : kFormats)
        if (x.format == f) return x.name;
    return "unknown";
}

CorpusFormat parse_corpus_format(const std::string& name) {
    for (const auto& x : kFormats)
        if (name == x.name) return x.format;
    throw Error("unknown corpus format \"" + name +
                "\" (expected auto, text, tinystories-txt, tinystories-json or wikitext)");
}

std::string restore_wikitext(const std::string& line) {
    std::string out = line;
    for (const auto& [from, to] :
         {std::pair<std::string, std::string>{" @-@ ", "-"}, {" @,@ ", ","}, {" @.@ ", "."}}) {
        for (std::size_t pos = 0; (pos = out.find(from, pos)) != std::string::npos;) {
            out.replace(pos, from.size(), to);
            pos += to.size();
        }
    }
    return out;
}

CorpusFormat detect_file_format(const fs::path& file) {
    const auto name = file.filename().string();
    if (name.rfind("wiki.", 0) == 0 && ends_with(name, ".raw")) return CorpusFormat::WikiText;
    auto head = head_of(file, 1 << 20);
    auto first = head.find_first_not_of(" \t\r\n");
    if (ends_with(name, ".json") || (first != std::string::npos && head[first] == '['))
        return CorpusFormat::TinyStoriesJson;
    if (head.find(std::string("\n") + kEndOfText) != std::string::npos ||
        head.rfind(kEndOfText, 0) == 0)
        return CorpusFormat::TinyStoriesText;
    return CorpusFormat::Text;
}

CorpusSource open_corpus(const fs::path& path, CorpusFormat format) {
    std::error_code ec;
    if (!fs::exists(path, ec)) throw Error(path.string() + ": no such file or folder");
    CorpusSource src;
    src.name = path.string();
    if (fs::is_directory(path, ec)) {
        std::vector<fs::path> files;
        for (const auto& e : fs::directory_iterator(path))
            if (e.is_regular_file() && e.path().filename().string()[0] != '.')
                files.push_back(e.path());
        std::sort(files.begin(), files.end());
        auto find = [&](const std::string& n) -> fs::path {
            for (const auto& f : files)
                if (f.filename() == n) return f;
            return {};
        };
        auto train_raw = find("wiki.train.raw");
        if (!train_raw.empty() &&
            (format == CorpusFormat::Auto || format == CorpusFormat::WikiText)) {
            src.format = CorpusFormat::WikiText;
            src.train_files = {train_raw};
            if (auto v = find("wiki.valid.raw"); !v.empty()) src.validation_files = {v};
        } else {
            for (const auto& f : files) {
                const auto n = f.filename().string();
                const bool txt = ends_with(n, ".txt"), json = ends_with(n, ".json");
                if (!txt && !json) continue;
                auto f_format = format == CorpusFormat::Auto ? detect_file_format(f) : format;
                if (src.train_files.empty() && src.validation_files.empty()) src.format = f_format;
                if (f_format != src.format)
                    continue;  // mixed folders: keep the first file's format
                const bool valid =
                    src.format != CorpusFormat::Text && n.find("valid") != std::string::npos;
                (valid ? src.validation_files : src.train_files).push_back(f);
            }
            src.document_per_file = src.format == CorpusFormat::Text;
            if (src.train_files.empty())
                throw Error(
                    path.string() + ": the folder holds no .txt or .json corpus files" +
                    (src.validation_files.empty() ? "" : " for training (only validation files)"));
        }
    } else {
        src.format = format == CorpusFormat::Auto ? detect_file_format(path) : format;
        src.train_files = {path};
        if (path.filename() == "wiki.train.raw" &&
            fs::exists(path.parent_path() / "wiki.valid.raw"))
            src.validation_files = {path.parent_path() / "wiki.valid.raw"};
    }
    for (const auto* list : {&src.train_files, &src.validation_files})
        for (const auto& f : *list) {
            if (src.format != CorpusFormat::TinyStoriesJson) check_text_file(f);
            src.bytes += fs::file_size(f);
        }
    if (src.bytes == 0) throw Error(path.string() + ": the corpus is empty");
    return src;
}

void read_documents(const fs::path& file, CorpusFormat format, const ReadOptions& options,
                    const std::function<void(std::string&&)>& sink) {
    if (format == CorpusFormat::Auto) format = detect_file_format(file);
    if (format == CorpusFormat::TinyStoriesJson) {
        read_json_stories(file, options.replace_invalid_utf8, sink);
        return;
    }
    LineReader reader(file, options);
    std::string line, doc;
    while (reader.next(line)) {
        switch (format) {
            case CorpusFormat::TinyStoriesText:
                if (trim(line) == kEndOfText) {
                    emit(doc, sink);
                    continue;
                }
                break;
            case CorpusFormat::WikiText:
                if (is_wikitext_heading(line)) emit(doc, sink);
                line = trim(restore_wikitext(line));
                break;
            default:  // text: blank-line-separated blocks, merged to >= 8 KB
                if (!options.whole_file_is_document && trim(line).empty() &&
                    doc.size() >= kMinBlockBytes) {
                    emit(doc, sink);
                    continue;
                }
                break;
        }
        doc += line;
        doc += '\n';
    }
    emit(doc, sink);
}

}  // namespace itera
