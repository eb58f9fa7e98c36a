// Fuzz target: ModelConfig::from_json on untrusted text (the `config` metadata
// of a model file, a config given on the command line).
//
// Contract checked: every input either parses or throws itera::Error. Any other
// exception escapes to libFuzzer (reported as a crash), as do ASan/UBSan
// reports, leaks, timeouts and running out of memory. A config that parses
// must survive to_json() -> from_json() unchanged (operator==) and be accepted
// by validate() again; parameter_count() (model/tensor_names.cpp, torch-free)
// must be positive and agree for the original and the copy.

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "model/config.h"
#include "model/tensor_names.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    itera::ModelConfig config;
    try {
        config = itera::ModelConfig::from_json(text);
    } catch (const itera::Error&) {
        return 0;  // the documented failure
    }
    const std::string json = config.to_json();
    itera::ModelConfig again;
    try {
        again = itera::ModelConfig::from_json(json);
        again.validate();
    } catch (const itera::Error& e) {
        FUZZ_CHECK(false, "to_json() of an accepted config is refused: %s\n  json: %s", e.what(),
                   json.c_str());
    }
    FUZZ_CHECK(again == config, "the round trip changed the config\n  first:  %s\n  second: %s",
               json.c_str(), again.to_json().c_str());
    FUZZ_CHECK(again.to_json() == json, "to_json() is not stable");
    const std::int64_t params = itera::parameter_count(config);
    FUZZ_CHECK(params > 0, "parameter_count %lld", static_cast<long long>(params));
    FUZZ_CHECK(params == itera::parameter_count(again), "parameter_count differs after the trip");
    const std::int64_t active = itera::active_parameter_count(config);
    FUZZ_CHECK(active > 0 && active <= params, "active_parameter_count %lld of %lld",
               static_cast<long long>(active), static_cast<long long>(params));
    return 0;
}
