#include "data/documents.h"

#include <cmath>

#include "util/error.h"

namespace itera {
namespace {

std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

}  // namespace

Split split_of(std::uint64_t seed, std::uint64_t index, double validation_fraction) {
    const double u =
        static_cast<double>(splitmix64(splitmix64(seed) ^ index) >> 11) * 0x1.0p-53;  // [0, 1)
    return u < validation_fraction ? Split::Validation : Split::Train;
}

void for_each_document(const CorpusSource& source, const ReadOptions& options_in,
                       const SplitSettings& split,
                       const std::function<void(Split, std::string&&)>& visit) {
    if (!(split.validation_fraction >= 0 && split.validation_fraction < 1))
        throw Error("validation fraction must be in [0, 1), got " +
                    number_text(split.validation_fraction));
    ReadOptions options = options_in;
    options.whole_file_is_document = source.document_per_file;
    const bool own_validation = !source.validation_files.empty();
    std::uint64_t index = 0;
    for (const auto& file : source.train_files) {
        read_documents(file, source.format, options, [&](std::string&& doc) {
            const auto s = own_validation ? Split::Train
                                          : split_of(split.seed, index, split.validation_fraction);
            ++index;
            visit(s, std::move(doc));
        });
    }
    for (const auto& file : source.validation_files)
        read_documents(file, source.format, options,
                       [&](std::string&& doc) { visit(Split::Validation, std::move(doc)); });
}

CorpusCounts count_documents(const CorpusSource& source, const ReadOptions& options,
                             const SplitSettings& split) {
    CorpusCounts c;
    for_each_document(source, options, split, [&](Split s, std::string&& doc) {
        auto& x = s == Split::Train ? c.train : c.validation;
        ++x.documents;
        x.bytes += doc.size();
    });
    if (c.train.documents + c.validation.documents == 0)
        throw Error(source.name + ": the corpus holds no text");
    if (c.train.documents == 0)
        throw Error(source.name + ": no document landed in the training split");
    if (c.validation.documents == 0 && split.validation_fraction > 0)
        throw Error(source.name + ": no document landed in the validation split (" +
                    std::to_string(c.train.documents) +
                    " documents; raise the validation fraction or add text)");
    return c;
}

}  // namespace itera
