#include "tokenizer/stored_tokenizer.h"

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/read_file.h"

namespace itera {
namespace {

constexpr std::uint64_t kMaxTokenizerBytes = 256ull << 20;

// A path in the metadata is relative to the model file's folder and stays
// inside it: a file handed to us must not make us read /etc/passwd or a FIFO.
std::filesystem::path tokenizer_path(const std::string& value, const std::filesystem::path& file) {
    const std::filesystem::path p(value);
    const auto shown = value.size() > 200 ? value.substr(0, 200) + "..." : value;
    if (value.empty() || p.is_absolute())
        throw Error("the tokenizer path \"" + shown +
                    "\" must be relative to the model file's folder");
    for (const auto& part : p)
        if (part == "..")
            throw Error("the tokenizer path \"" + shown + "\" leaves the model file's folder");
    return file.parent_path() / p;
}

}  // namespace

std::shared_ptr<const Tokenizer> stored_tokenizer(const std::string& value,
                                                  const std::filesystem::path& file) {
    const auto first = value.find_first_not_of(" \t\r\n");
    try {
        if (first != std::string::npos && value[first] == '{') {
            const auto j = nlohmann::json::parse(value, nullptr, false);
            if (j.is_object() && j.contains("type") && j["type"] == "none") return nullptr;
            return Tokenizer::deserialize(value);
        }
        return Tokenizer::deserialize(
            read_small_file(tokenizer_path(value, file), kMaxTokenizerBytes));
    } catch (const Error& e) {
        throw Error(file.string() + ": tokenizer: " + e.what());
    }
}

}  // namespace itera
