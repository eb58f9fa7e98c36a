#pragma once
// Tokenizers: an immutable vocabulary shared across threads (encode/decode are
// const and thread-safe), serialised into a checkpoint's `tokenizer` metadata
// so a checkpoint is self-contained.
//
// Kinds and their special ids:
//   byte     ids 0..255 are bytes; PAD 256, BOS 257, EOS 258 (vocab 259). No training.
//   word     the original project's: lowercase, whitespace split; PAD 0, UNK 1, BOS 2, EOS 3.
//   bpe,     SentencePiece models trained here (byte fallback on, so nothing is
//   unigram  unknown); PAD 0, UNK 1, BOS 2, EOS 3. SentencePiece runs inside
//            libitera_spm, loaded at run time (see tokenizer/spm/spm_api.h).
// EOS doubles as the end-of-document token placed between documents.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace itera {

enum class TokenizerKind { Byte, Word, Bpe, Unigram };

std::string tokenizer_kind_name(TokenizerKind k);
/// Inverse of tokenizer_kind_name; throws itera::Error naming the accepted kinds.
TokenizerKind parse_tokenizer_kind(const std::string& name);

class Tokenizer {
public:
    virtual ~Tokenizer() = default;
    virtual TokenizerKind kind() const = 0;
    virtual std::int32_t vocab_size() const = 0;
    virtual std::int32_t pad_id() const = 0;
    virtual std::int32_t bos_id() const = 0;
    virtual std::int32_t eos_id() const = 0;
    /// Ids of `text` (no BOS/EOS added).
    virtual std::vector<std::int32_t> encode(std::string_view text) const = 0;
    /// Text of `ids`; special ids decode to nothing.
    virtual std::string decode(const std::vector<std::int32_t>& ids) const = 0;
    /// The self-contained JSON form stored in checkpoints.
    virtual std::string serialize() const = 0;

    /// A stable 16-hex-digit fingerprint of `serialize()` (FNV-1a 64), used to
    /// tell whether a token cache was built with this tokenizer.
    std::string fingerprint() const;

    /// Rebuilds a tokenizer from `serialize()` output; throws itera::Error on
    /// malformed input naming what is wrong.
    static std::shared_ptr<const Tokenizer> deserialize(const std::string& json);
};

/// The byte tokenizer.
std::shared_ptr<const Tokenizer> make_byte_tokenizer();

/// SentencePiece BPE or unigram trained on `documents` (each split into lines;
/// pass a sample for corpora larger than memory). Throws itera::Error if the
/// text is too small for the vocabulary asked for.
std::shared_ptr<const Tokenizer> train_sentencepiece(TokenizerKind kind,
                                                     const std::vector<std::string>& documents,
                                                     std::int32_t vocab_size, int threads = 0);

/// The original project's word tokenizer: the `vocab_size - 4` most frequent
/// lowercase words of `documents` (ties broken alphabetically).
std::shared_ptr<const Tokenizer> train_word_tokenizer(const std::vector<std::string>& documents,
                                                      std::int32_t vocab_size);

}  // namespace itera
