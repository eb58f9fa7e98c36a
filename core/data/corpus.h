#pragma once
// Corpora: where the documents of a dataset come from, in which format, and
// how they are streamed. A document is the unit that never straddles the
// train/validation split.
//
// Formats:
//   text              a .txt file (documents = blank-line-separated blocks,
//                     merged to at least 8 KB) or a folder of .txt files
//                     (one document per file)
//   tinystories-txt   stories separated by a line `<|endoftext|>` (v1, V2-GPT4)
//   tinystories-json  a JSON array of objects with a "story" string (shards)
//   wikitext          WikiText-2/-103 raw: documents start at ` = Title = `
//                     headings; ` @-@ `, ` @,@ `, ` @.@ ` become `-`, `,`, `.`

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace itera {

enum class CorpusFormat { Auto, Text, TinyStoriesText, TinyStoriesJson, WikiText };

/// "text", "tinystories-txt", ... ("auto" for Auto).
std::string corpus_format_name(CorpusFormat f);
/// Inverse of corpus_format_name; throws itera::Error naming the accepted names.
CorpusFormat parse_corpus_format(const std::string& name);

struct ReadOptions {
    bool replace_invalid_utf8 = false;    ///< else invalid UTF-8 is an error with its byte offset
    bool whole_file_is_document = false;  ///< `text` format: the file is one document
};

/// The files of a corpus and their format. `validation_files` is the
/// dataset's own validation split when it has one (else empty: split by seed).
struct CorpusSource {
    std::string name;  ///< as given: a path or a built-in name
    CorpusFormat format = CorpusFormat::Text;
    std::vector<std::filesystem::path> train_files;
    std::vector<std::filesystem::path> validation_files;
    std::uint64_t bytes = 0;         ///< total size of all files
    bool document_per_file = false;  ///< a folder of .txt files: each file is one document
};

/// Resolves a file or folder (format detected unless given). Throws
/// itera::Error for a missing path, an empty folder, or a binary file.
CorpusSource open_corpus(const std::filesystem::path& path,
                         CorpusFormat format = CorpusFormat::Auto);

/// The format of one file from its name and first bytes.
CorpusFormat detect_file_format(const std::filesystem::path& file);

/// Calls `sink` with every document of `file`, in order, without holding the
/// whole file in memory (except `text` files, read one at a time).
void read_documents(const std::filesystem::path& file, CorpusFormat format,
                    const ReadOptions& options, const std::function<void(std::string&&)>& sink);

/// Undoes WikiText's tokenisation of one line: ` @-@ ` → `-` and so on.
std::string restore_wikitext(const std::string& line);

}  // namespace itera
