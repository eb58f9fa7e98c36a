#include "infer/stop_matcher.h"

#include <algorithm>

namespace itera {

std::string StopMatcher::add(const std::string& piece) {
    if (matched_) return {};
    pending_ += piece;
    std::size_t cut = std::string::npos;
    for (const auto& s : stops_) cut = std::min(cut, pending_.find(s));
    if (cut != std::string::npos) {
        matched_ = true;
        std::string out = pending_.substr(0, cut);
        pending_.clear();
        return out;
    }
    std::size_t hold = 0;  // the longest suffix of pending_ that begins a stop string
    for (const auto& s : stops_)
        for (std::size_t n = std::min(s.size() - 1, pending_.size()); n > hold; --n)
            if (pending_.compare(pending_.size() - n, n, s, 0, n) == 0) {
                hold = n;
                break;
            }
    std::string out = pending_.substr(0, pending_.size() - hold);
    pending_.erase(0, pending_.size() - hold);
    return out;
}

}  // namespace itera
