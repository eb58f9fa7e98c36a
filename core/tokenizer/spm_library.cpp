#include "tokenizer/spm_library.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "util/error.h"

namespace itera {
namespace {

std::vector<std::string> candidates() {
    std::vector<std::string> out;
    if (const char* env = std::getenv("ITERA_SPM_LIBRARY"); env && *env) out.emplace_back(env);
    // Beside the binary (installed) before the build tree's copy, so an
    // installed program never loads a stale shim from a checkout.
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        out.push_back((exe.parent_path() / "libitera_spm.so").string());
        out.push_back(
            (exe.parent_path().parent_path() / "lib/itera-workbench/libitera_spm.so").string());
    }
#ifdef ITERA_SPM_BUILD_PATH
    out.emplace_back(ITERA_SPM_BUILD_PATH);
#endif
    return out;
}

template <class F>
void bind(void* handle, const char* name, F& out, const std::string& path) {
    out = reinterpret_cast<F>(dlsym(handle, name));
    if (!out) throw Error(path + ": missing symbol " + name);
}

// GCC defines __SANITIZE_ADDRESS__ under -fsanitize=address; clang 14 only
// answers __has_feature(address_sanitizer).
#if defined(__SANITIZE_ADDRESS__)
#define ITERA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ITERA_ASAN 1
#endif
#endif

SpmLibrary load_library() {
#if defined(ITERA_ASAN)
    throw Error(
        "SentencePiece tokenizers are not available in AddressSanitizer builds: they are loaded "
        "with "
        "RTLD_DEEPBIND, which the sanitizer does not support");
#else
    std::string tried;
    for (const auto& path : candidates()) {
        if (!std::filesystem::exists(path)) {
            tried += "\n  " + path + " (absent)";
            continue;
        }
        void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
        if (!h) {
            tried += "\n  " + path + " (" + dlerror() + ")";
            continue;
        }
        SpmLibrary lib;
        bind(h, "itera_spm_train", lib.train, path);
        bind(h, "itera_spm_load", lib.load, path);
        bind(h, "itera_spm_encode", lib.encode, path);
        bind(h, "itera_spm_decode", lib.decode, path);
        bind(h, "itera_spm_info", lib.info, path);
        bind(h, "itera_spm_unload", lib.unload, path);
        bind(h, "itera_spm_free", lib.free, path);
        return lib;
    }
    throw Error("cannot load libitera_spm (SentencePiece tokenizers); looked at:" + tried);
#endif
}

}  // namespace

const SpmLibrary& SpmLibrary::get() {
    static std::once_flag once;
    static SpmLibrary lib;
    static std::string error;
    std::call_once(once, [] {
        try {
            lib = load_library();
        } catch (const Error& e) {
            error = e.what();
        }
    });
    if (!error.empty()) throw Error(error);
    return lib;
}

}  // namespace itera
