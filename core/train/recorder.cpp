#include "train/recorder.h"

#include "util/error.h"

namespace itera {
namespace {

constexpr const char* kStatusNames[] = {"queued", "running", "paused",     "finished",
                                        "failed", "stopped", "interrupted"};

}  // namespace

std::string run_status_name(RunStatus s) {
    return kStatusNames[static_cast<int>(s)];
}

RunStatus parse_run_status(const std::string& name) {
    for (int i = 0; i < 7; ++i)
        if (name == kStatusNames[i]) return static_cast<RunStatus>(i);
    throw Error("unknown run status \"" + name + "\"");
}

}  // namespace itera
