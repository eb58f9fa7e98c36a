#pragma once
// Run-time loading of libitera_spm (SentencePiece in isolation; see
// spm/spm_api.h for the protobuf clash that makes this necessary).

#include "tokenizer/spm/spm_api.h"

namespace itera {

/// The entry points of libitera_spm.
struct SpmLibrary {
    decltype(&itera_spm_train) train = nullptr;
    decltype(&itera_spm_load) load = nullptr;
    decltype(&itera_spm_encode) encode = nullptr;
    decltype(&itera_spm_decode) decode = nullptr;
    decltype(&itera_spm_info) info = nullptr;
    decltype(&itera_spm_unload) unload = nullptr;
    decltype(&itera_spm_free) free = nullptr;

    /// Loads the library once (thread-safe). Looks at $ITERA_SPM_LIBRARY, the
    /// build tree, then beside the executable and in ../lib/itera-workbench.
    /// Throws itera::Error listing where it looked.
    static const SpmLibrary& get();
};

}  // namespace itera
