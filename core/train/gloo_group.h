#pragma once
// One data-parallel run's processes on PyTorch's c10d: a TCPStore for the
// rendezvous and for passing the run from rank 0 to the others, and a Gloo
// process group for the collectives (train/collective.h). Rank 0 serves the
// store; the others connect to it. docs/distributed.md says how to run it.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "train/collective.h"

namespace itera {

struct DistSettings {
    std::string host = "127.0.0.1";  ///< rank 0's address (the store's)
    int port = 29500;                ///< the store's port; 0 on rank 0: any free one
    int rank = 0;
    int world_size = 1;
    double timeout_s = 300;  ///< rendezvous, and any collective that waits longer
    /// Gloo's network device: an interface name ("eth0"); empty: the address
    /// this machine's hostname resolves to (the loopback when rank 0 is local).
    std::string interface;
};

class GlooGroup final : public Collective {
public:
    /// Serves (rank 0) or connects to the store. Throws CollectiveError when
    /// it cannot within the timeout.
    explicit GlooGroup(const DistSettings& settings);
    ~GlooGroup() override;

    /// The store's port (the one chosen when `port` was 0).
    int port() const;
    /// Sets `key` in the store (rank 0 publishes the run this way).
    void publish(const std::string& key, const std::string& value);
    /// Waits up to `timeout_s` for `key`; throws CollectiveError after it.
    std::string fetch(const std::string& key, double timeout_s);
    /// Records in the store why this rank is leaving, for rank 0's message.
    void report_failure(const std::string& why) noexcept;
    /// Forms the Gloo group: returns once every rank has joined.
    void join();
    /// Asked when a collective fails, to name the rank (the local launcher knows
    /// which of its processes died); returns "" when it does not know.
    void set_failure_hint(std::function<std::string()> hint) { hint_ = std::move(hint); }

    int rank() const override { return settings_.rank; }
    int world_size() const override { return settings_.world_size; }
    void sum(std::vector<at::Tensor>& tensors) override;
    void broadcast(std::vector<at::Tensor>& tensors) override;
    std::string describe_failure(const std::string& what) override;

private:
    struct Impl;
    DistSettings settings_;
    std::unique_ptr<Impl> impl_;
    std::function<std::string()> hint_;
};

}  // namespace itera
