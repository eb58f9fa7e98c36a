// SpmLibrary for the fuzz build: the entry points of tokenizer/spm/spm_shim.cpp,
// linked into the fuzzer, instead of tokenizer/spm_library.cpp's dlopen().
//
// Why: spm_library.cpp opens libitera_spm.so with RTLD_DEEPBIND, which
// AddressSanitizer refuses (it aborts the process), and its own
// `#if defined(__SANITIZE_ADDRESS__)` fallback does not fire under clang 14,
// which does not define that macro. The dlopen exists only to keep
// SentencePiece's protobuf away from LibTorch's; the fuzz build has no
// LibTorch, so linking the shim and libsentencepiece directly is safe, and the
// SentencePiece model loader (base64 model in the tokenizer JSON) gets fuzzed.

#include "tokenizer/spm_library.h"

namespace itera {

const SpmLibrary& SpmLibrary::get() {
    static const SpmLibrary lib = [] {
        SpmLibrary l;
        l.train = &itera_spm_train;
        l.load = &itera_spm_load;
        l.encode = &itera_spm_encode;
        l.decode = &itera_spm_decode;
        l.info = &itera_spm_info;
        l.unload = &itera_spm_unload;
        l.free = &itera_spm_free;
        return l;
    }();
    return lib;
}

}  // namespace itera
