// libitera_spm: the C interface of spm_api.h over SentencePiece. Built as its
// own shared library and loaded at run time (see spm_api.h for why).

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>

#include "spm_api.h"

namespace {

char* copy_out(const std::string& s) {
    auto* p = static_cast<char*>(std::malloc(s.size() + 1));
    if (!p) return nullptr;
    std::memcpy(p, s.data(), s.size());
    p[s.size()] = '\0';
    return p;
}

int fail(char** err, const std::string& message) {
    if (err) *err = copy_out(message);
    return 1;
}

class CallbackIterator final : public sentencepiece::SentenceIterator {
public:
    CallbackIterator(itera_spm_next_line next, void* ctx) : next_(next), ctx_(ctx) { Next(); }
    bool done() const override { return done_; }
    void Next() override {
        const char* data = nullptr;
        size_t len = 0;
        done_ = next_(ctx_, &data, &len) == 0;
        if (!done_) value_.assign(data, len);
    }
    const std::string& value() const override { return value_; }
    sentencepiece::util::Status status() const override { return {}; }

private:
    itera_spm_next_line next_;
    void* ctx_;
    bool done_ = false;
    std::string value_;
};

}  // namespace

extern "C" {

int itera_spm_train(const char* const* keys, const char* const* values, size_t n_args,
                    itera_spm_next_line next, void* ctx, char** proto, size_t* proto_len,
                    char** err) {
    try {
        std::unordered_map<std::string, std::string> args;
        for (size_t i = 0; i < n_args; ++i) args[keys[i]] = values[i];
        CallbackIterator it(next, ctx);
        std::string out;
        auto status = sentencepiece::SentencePieceTrainer::Train(args, &it, &out);
        if (!status.ok()) return fail(err, status.ToString());
        *proto = static_cast<char*>(std::malloc(out.size()));
        if (!*proto) return fail(err, "out of memory");
        std::memcpy(*proto, out.data(), out.size());
        *proto_len = out.size();
        return 0;
    } catch (const std::exception& e) {
        return fail(err, e.what());
    }
}

void* itera_spm_load(const char* proto, size_t len, char** err) {
    auto* sp = new (std::nothrow) sentencepiece::SentencePieceProcessor();
    if (!sp) {
        fail(err, "out of memory");
        return nullptr;
    }
    auto status = sp->LoadFromSerializedProto(std::string(proto, len));
    if (!status.ok()) {
        fail(err, status.ToString());
        delete sp;
        return nullptr;
    }
    return sp;
}

int itera_spm_encode(void* model, const char* text, size_t len, int** ids, size_t* n, char** err) {
    std::vector<int> out;
    auto status = static_cast<sentencepiece::SentencePieceProcessor*>(model)->Encode(
        std::string(text, len), &out);
    if (!status.ok()) return fail(err, status.ToString());
    *ids = static_cast<int*>(std::malloc(out.size() * sizeof(int) + 1));
    if (!*ids) return fail(err, "out of memory");
    if (!out.empty()) std::memcpy(*ids, out.data(), out.size() * sizeof(int));
    *n = out.size();
    return 0;
}

int itera_spm_decode(void* model, const int* ids, size_t n, char** text, size_t* len, char** err) {
    std::string out;
    auto status = static_cast<sentencepiece::SentencePieceProcessor*>(model)->Decode(
        std::vector<int>(ids, ids + n), &out);
    if (!status.ok()) return fail(err, status.ToString());
    *text = copy_out(out);
    if (!*text) return fail(err, "out of memory");
    *len = out.size();
    return 0;
}

void itera_spm_info(void* model, int* vocab_size, int* pad_id, int* unk_id, int* bos_id,
                    int* eos_id) {
    auto* sp = static_cast<sentencepiece::SentencePieceProcessor*>(model);
    *vocab_size = sp->GetPieceSize();
    *pad_id = sp->pad_id();
    *unk_id = sp->unk_id();
    *bos_id = sp->bos_id();
    *eos_id = sp->eos_id();
}

void itera_spm_unload(void* model) {
    delete static_cast<sentencepiece::SentencePieceProcessor*>(model);
}

void itera_spm_free(void* p) {
    std::free(p);
}

}  // extern "C"
