#include "train/gloo_group.h"

// Debian's LibTorch is built with Gloo; its c10d headers guard it with this.
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <cstdlib>

namespace itera {
namespace {

using Ms = std::chrono::milliseconds;

Ms millis(double seconds) {
    return Ms(static_cast<std::int64_t>(seconds * 1000));
}

// c10 errors carry a backtrace after the first line; the first line says it.
std::string first_line(const std::string& s) {
    return s.substr(0, s.find('\n'));
}

std::vector<std::uint8_t> bytes(const std::string& s) {
    return {s.begin(), s.end()};
}

const char* kFailedKey = "itera/failed/";

}  // namespace

struct GlooGroup::Impl {
    c10::intrusive_ptr<c10d::TCPStore> store;
    c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

GlooGroup::GlooGroup(const DistSettings& s) : settings_(s), impl_(std::make_unique<Impl>()) {
    if (s.world_size < 1 || s.rank < 0 || s.rank >= s.world_size)
        throw Error("distributed: rank " + std::to_string(s.rank) + " is not in a world of " +
                    std::to_string(s.world_size) + " processes (0 <= rank < world size)");
    if (s.port < 0 || s.port > 65535 || (s.port == 0 && s.rank != 0))
        throw Error("distributed: port " + std::to_string(s.port) + " is not a port to connect to");
    if (!(s.timeout_s > 0)) throw Error("distributed: the timeout must be positive");
    c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(s.port);
    o.isServer = s.rank == 0;
    o.numWorkers = s.world_size;
    o.waitWorkers = false;  // the others may start after rank 0 (the launcher starts them)
    o.timeout = millis(s.timeout_s);
    try {
        impl_->store = c10::make_intrusive<c10d::TCPStore>(s.host, o);
    } catch (const std::exception& e) {
        throw CollectiveError("distributed: cannot " +
                              std::string(s.rank == 0 ? "serve" : "reach") + " the store at " +
                              s.host + ":" + std::to_string(s.port) + ": " + first_line(e.what()));
    }
}

GlooGroup::~GlooGroup() = default;

int GlooGroup::port() const {
    return impl_->store->getPort();
}

void GlooGroup::publish(const std::string& key, const std::string& value) {
    try {
        impl_->store->set(key, bytes(value));
    } catch (const std::exception& e) {
        throw CollectiveError("distributed: cannot write " + key +
                              " to the store: " + first_line(e.what()));
    }
}

std::string GlooGroup::fetch(const std::string& key, double timeout_s) {
    try {
        impl_->store->wait({key}, millis(timeout_s));
        const auto v = impl_->store->get(key);
        return {v.begin(), v.end()};
    } catch (const std::exception& e) {
        throw CollectiveError("distributed: rank 0 did not publish " + key + " within " +
                              std::to_string(static_cast<long long>(timeout_s)) +
                              " s: " + first_line(e.what()));
    }
}

void GlooGroup::report_failure(const std::string& why) noexcept {
    try {
        impl_->store->set(kFailedKey + std::to_string(settings_.rank), bytes(why));
    } catch (...) {
        // the store is gone with rank 0: nobody is left to tell
    }
}

void GlooGroup::join() {
    auto options = c10d::ProcessGroupGloo::Options::create(millis(settings_.timeout_s));
    try {
        std::string interface = settings_.interface;
        if (interface.empty())
            if (const char* env = std::getenv("GLOO_SOCKET_IFNAME")) interface = env;
        if (!interface.empty())
            options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
        else if (settings_.host == "127.0.0.1" || settings_.host == "localhost")
            options->devices.push_back(
                c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
        else
            options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
        options->threads = 1;
        impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, settings_.rank,
                                                                   settings_.world_size, options);
    } catch (const std::exception& e) {
        throw CollectiveError(
            describe_failure("distributed: the " + std::to_string(settings_.world_size) +
                             " processes did not form a group: " + first_line(e.what())));
    }
}

// Starts `op` on each tensor alone (Gloo reduces a list of tensors as copies
// of one), all in flight before the first wait.
template <class Op>
void each_then_wait(std::vector<at::Tensor>& tensors, Op op) {
    try {
        std::vector<c10::intrusive_ptr<c10d::Work>> work;
        for (auto& t : tensors) {
            std::vector<at::Tensor> one = {t};
            work.push_back(op(one));
        }
        for (auto& w : work) w->wait();
    } catch (const std::exception& e) {
        throw CollectiveError(first_line(e.what()));
    }
}

void GlooGroup::sum(std::vector<at::Tensor>& tensors) {
    if (!impl_->group) throw Error("distributed: sum before join");
    each_then_wait(tensors,
                   [this](std::vector<at::Tensor>& one) { return impl_->group->allreduce(one); });
}

void GlooGroup::broadcast(std::vector<at::Tensor>& tensors) {
    if (!impl_->group) throw Error("distributed: broadcast before join");
    each_then_wait(tensors,
                   [this](std::vector<at::Tensor>& one) { return impl_->group->broadcast(one); });
}

std::string GlooGroup::describe_failure(const std::string& what) {
    std::string named;
    if (hint_) named = hint_();
    if (named.empty()) {
        for (int r = 0; r < settings_.world_size; ++r) {
            if (r == settings_.rank) continue;
            try {
                const auto key = kFailedKey + std::to_string(r);
                if (impl_->store->check({key})) {
                    const auto v = impl_->store->get(key);
                    named += (named.empty() ? "" : "; ") + std::string("rank ") +
                             std::to_string(r) + " failed: " + std::string(v.begin(), v.end());
                }
            } catch (...) {
                break;  // the store itself is gone (rank 0 died)
            }
        }
    }
    if (named.empty())
        named = settings_.rank == 0 ? "a rank stopped answering (killed, or its machine is gone)"
                                    : "rank 0 or another rank stopped answering";
    return named + " (" + what + ")";
}

}  // namespace itera
