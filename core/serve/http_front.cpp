#include "serve/http_front.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <thread>
#include <vector>

namespace itera {
namespace {

using Clock = std::chrono::steady_clock;

// Which lane the pool runs a connection on (set by LanedPool per task).
enum class Lane { Main, Overflow, Drop };
thread_local Lane g_lane = Lane::Main;

// httplib hands each accepted connection to a TaskQueue. This one has a pool
// for admitted connections and a small one for the rest: a connection that
// finds no idle main worker goes to the overflow lane at once instead of
// waiting behind slow clients, and when even that lane is backed up it is
// closed.
class LanedPool : public httplib::TaskQueue {
public:
    LanedPool(int main, int overflow, std::size_t overflow_queue)
        : idle_main_(main), overflow_limit_(overflow_queue) {
        for (int i = 0; i < main; ++i) threads_.emplace_back([this] { work(main_jobs_, true); });
        for (int i = 0; i < overflow; ++i)
            threads_.emplace_back([this] { work(overflow_jobs_, false); });
    }
    void enqueue(std::function<void()> fn) override {
        {
            std::lock_guard lock(mutex_);
            if (idle_main_ > 0) {
                --idle_main_;
                main_jobs_.push_back({std::move(fn), Lane::Main});
            } else {
                const Lane lane =
                    overflow_jobs_.size() < overflow_limit_ ? Lane::Overflow : Lane::Drop;
                overflow_jobs_.push_back({std::move(fn), lane});
            }
        }
        ready_.notify_all();
    }
    void shutdown() override {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        ready_.notify_all();
        for (auto& t : threads_) t.join();
    }

private:
    struct Job {
        std::function<void()> fn;
        Lane lane;
    };
    void work(std::deque<Job>& jobs, bool main) {
        for (;;) {
            Job job;
            {
                std::unique_lock lock(mutex_);
                ready_.wait(lock, [&] { return stopping_ || !jobs.empty(); });
                if (jobs.empty()) return;  // stopping, and nothing left to close
                job = std::move(jobs.front());
                jobs.pop_front();
            }
            g_lane = job.lane;
            job.fn();
            if (main) {
                std::lock_guard lock(mutex_);
                ++idle_main_;
            }
        }
    }
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<Job> main_jobs_, overflow_jobs_;
    int idle_main_;
    std::size_t overflow_limit_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

std::string peer_address(int sock) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (getpeername(sock, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "?";
    char text[INET6_ADDRSTRLEN] = "?";
    if (addr.ss_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, text, sizeof text);
    else if (addr.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, text, sizeof text);
    return text;
}

int port_of(int sock, bool peer) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    const int rc = peer ? getpeername(sock, reinterpret_cast<sockaddr*>(&addr), &len)
                        : getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len);
    if (rc != 0) return -1;
    if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
    return -1;
}

int ms_until(Clock::time_point t) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(ms, 0, 1 << 30));
}

// Sends all of `data` before `deadline`; false when the client is gone or too slow.
bool send_all(int sock, const char* data, std::size_t size, double timeout_s) {
    while (size > 0) {
        pollfd p{sock, POLLOUT, 0};
        if (poll(&p, 1, static_cast<int>(timeout_s * 1000)) <= 0 ||
            (p.revents & (POLLERR | POLLHUP)))
            return false;
        const auto n = ::send(sock, data, size, MSG_NOSIGNAL);
        if (n <= 0) return false;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

const char* reason_of(int status) {
    switch (status) {
        case 400:
            return "Bad Request";
        case 408:
            return "Request Timeout";
        case 411:
            return "Length Required";
        case 413:
            return "Payload Too Large";
        case 431:
            return "Request Header Fields Too Large";
        case 503:
            return "Service Unavailable";
        case 505:
            return "HTTP Version Not Supported";
        default:
            return "Error";
    }
}

// One request's bytes, read whole before httplib parses them.
struct RequestHead {
    std::string method, target;
    std::size_t head_bytes = 0;  ///< request line + headers + the empty line
    std::size_t body_bytes = 0;
    bool expect_continue = false;
};

// What went wrong reading a request, answered by the front itself.
struct Refusal {
    int status = 0;  ///< 0: nothing (the client closed, or idled out between requests)
    std::string message;
};

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string trim(const std::string& s) {
    const auto a = s.find_first_not_of(" \t");
    if (a == std::string::npos) return {};
    return s.substr(a, s.find_last_not_of(" \t\r") - a + 1);
}

// Parses the header block buffer[0, end). Returns a refusal when it is not a
// request this server reads.
Refusal parse_head(const std::string& buffer, std::size_t end, const FrontLimits& limits,
                   RequestHead& head) {
    head = {};
    head.head_bytes = end;
    std::size_t line_end = buffer.find('\n');
    const auto request_line = trim(buffer.substr(0, line_end));
    const auto sp1 = request_line.find(' ');
    const auto sp2 = request_line.rfind(' ');
    if (sp1 == std::string::npos || sp2 == sp1)
        return {400, "malformed request line (expected METHOD TARGET HTTP/1.1)"};
    head.method = request_line.substr(0, sp1);
    head.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    const auto version = request_line.substr(sp2 + 1);
    if (head.method.empty() || head.method.size() > 16 ||
        !std::all_of(head.method.begin(), head.method.end(),
                     [](char c) { return c >= 'A' && c <= 'Z'; }))
        return {400, "malformed request line: the method is not an HTTP method"};
    if (version != "HTTP/1.1" && version != "HTTP/1.0")
        return {505, "only HTTP/1.0 and HTTP/1.1 are served"};
    if (head.target.empty() || head.target[0] != '/')
        return {400, "malformed request line: the target must start with /"};
    std::string length;
    bool chunked = false, has_length = false;
    int headers = 0;
    for (std::size_t at = line_end + 1; at < end;) {
        auto next = buffer.find('\n', at);
        if (next == std::string::npos || next > end) next = end;
        const auto line = buffer.substr(at, next - at);
        at = next + 1;
        if (line.empty() || line == "\r") continue;
        if (++headers > 200) return {431, "more than 200 header fields"};
        const auto colon = line.find(':');
        if (colon == std::string::npos || colon == 0)
            return {400, "malformed header line (expected Name: value)"};
        const auto name = lower(line.substr(0, colon));
        const auto value = trim(line.substr(colon + 1));
        if (name == "content-length") {
            if (value.empty() || value.size() > 18 ||
                !std::all_of(value.begin(), value.end(),
                             [](char c) { return c >= '0' && c <= '9'; }))
                return {400, "Content-Length must be a non-negative decimal number"};
            if (has_length && value != length) return {400, "two different Content-Length headers"};
            has_length = true;
            length = value;
        } else if (name == "transfer-encoding") {
            chunked = true;
        } else if (name == "expect") {
            head.expect_continue = lower(value) == "100-continue";
        }
    }
    const bool needs_body = head.method == "POST" || head.method == "PUT" || head.method == "PATCH";
    if (chunked)
        return {411, "send the body with a Content-Length (chunked request bodies are not read)"};
    if (needs_body && !has_length)
        return {411, "a " + head.method + " request needs a Content-Length"};
    if (has_length) {
        const auto n = std::stoull(length);
        if (n > limits.max_body_bytes)
            return {413,
                    "the body is larger than " + std::to_string(limits.max_body_bytes) + " bytes"};
        head.body_bytes = static_cast<std::size_t>(n);
    }
    return {};
}

// The end of the header block in `buffer` (just after the empty line), or npos.
std::size_t head_end(const std::string& buffer) {
    for (std::size_t at = buffer.find('\n'); at != std::string::npos;
         at = buffer.find('\n', at + 1)) {
        if (at + 1 < buffer.size() && buffer[at + 1] == '\n') return at + 2;
        if (at + 2 < buffer.size() && buffer[at + 1] == '\r' && buffer[at + 2] == '\n')
            return at + 3;
    }
    return std::string::npos;
}

// A connection's bytes: what was received and not yet handed to a request.
class Connection {
public:
    explicit Connection(int sock) : sock_(sock) {}

    /// Waits up to `ms` for a first byte (or one already buffered).
    bool wait_readable(int ms) {
        if (!buffer_.empty()) return true;
        pollfd p{sock_, POLLIN, 0};
        return poll(&p, 1, ms) > 0 && fill(0);
    }

    /// Reads one whole request (headers and body) before `deadline`.
    Refusal read_request(Clock::time_point deadline, const FrontLimits& limits, RequestHead& head) {
        std::size_t end;
        while ((end = head_end(buffer_)) == std::string::npos) {
            // A CR not followed by LF can never end a line: refuse now, not at the deadline.
            for (auto cr = buffer_.find('\r'); cr != std::string::npos && cr + 1 < buffer_.size();
                 cr = buffer_.find('\r', cr + 1))
                if (buffer_[cr + 1] != '\n') return {400, "malformed line ending (a bare CR)"};
            if (buffer_.size() > limits.max_header_bytes)
                return {431, "the request's header block is larger than " +
                                 std::to_string(limits.max_header_bytes) + " bytes"};
            if (!fill(ms_until(deadline)))
                return closed_ ? Refusal{}
                               : Refusal{408,
                                         "the request was not sent within the request "
                                         "timeout"};
        }
        if (end > limits.max_header_bytes)
            return {431, "the request's header block is larger than " +
                             std::to_string(limits.max_header_bytes) + " bytes"};
        if (auto r = parse_head(buffer_, end, limits, head); r.status) return r;
        if (head.expect_continue && buffer_.size() < end + head.body_bytes) {
            static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
            send_all(sock_, kContinue, sizeof kContinue - 1, 1);
        }
        while (buffer_.size() < end + head.body_bytes)
            if (!fill(ms_until(deadline)))
                return closed_ ? Refusal{}
                               : Refusal{408,
                                         "the request body was not sent within the request "
                                         "timeout"};
        return {};
    }

    /// Takes the first `n` buffered bytes (one request) out of the buffer.
    std::string take(std::size_t n) {
        auto out = buffer_.substr(0, n);
        buffer_.erase(0, n);
        return out;
    }
    bool closed() const { return closed_; }

private:
    // Appends what arrives within `ms`; false on timeout, close or error.
    bool fill(int ms) {
        pollfd p{sock_, POLLIN, 0};
        if (poll(&p, 1, ms) <= 0) return false;
        char chunk[16384];
        const auto n = ::recv(sock_, chunk, sizeof chunk, 0);
        if (n <= 0) {
            closed_ = true;
            return false;
        }
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return true;
    }
    int sock_;
    std::string buffer_;
    bool closed_ = false;
};

// The stream httplib parses one request from and writes its answer to: the
// request's bytes come from memory (already read whole), the answer goes to
// the socket with a timeout per write.
class RequestStream : public httplib::Stream {
public:
    RequestStream(int sock, std::string request, double write_timeout_s)
        : sock_(sock), request_(std::move(request)), write_timeout_s_(write_timeout_s) {}

    bool is_readable() const override { return at_ < request_.size(); }
    bool is_writable() const override {
        pollfd p{sock_, POLLOUT, 0};
        return poll(&p, 1, static_cast<int>(write_timeout_s_ * 1000)) > 0 &&
               !(p.revents & (POLLERR | POLLHUP));
    }
    ssize_t read(char* ptr, size_t size) override {
        const auto n = std::min(size, request_.size() - at_);
        std::copy_n(request_.data() + at_, n, ptr);
        at_ += n;
        return static_cast<ssize_t>(n);
    }
    ssize_t write(const char* ptr, size_t size) override {
        if (!send_all(sock_, ptr, size, write_timeout_s_)) return -1;
        written_ += size;
        return static_cast<ssize_t>(size);
    }
    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        ip = peer_address(sock_);
        port = port_of(sock_, true);
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        ip = "";
        port = port_of(sock_, false);
    }
    socket_t socket() const override { return sock_; }
    std::size_t written() const { return written_; }

private:
    int sock_;
    std::string request_;
    std::size_t at_ = 0;
    double write_timeout_s_;
    std::size_t written_ = 0;
};

}  // namespace

std::string front_error_json(int status, const std::string& message) {
    return nlohmann::json{{"error", {{"message", message}, {"status", status}, {"field", nullptr}}}}
        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HttpFront::HttpFront(const FrontLimits& limits) : limits_(limits) {
    const int workers = std::max(2, limits.workers);
    const int overflow = std::max(1, limits.overflow_workers);
    new_task_queue = [workers, overflow] { return new LanedPool(workers, overflow, 256); };
    limits_.max_connections = std::clamp(limits.max_connections, 1, workers);
    set_payload_max_length(limits.max_body_bytes);
}

void HttpFront::widen_backlog(int n) {
    ::listen(svr_sock_.load(), n);
}

bool HttpFront::drain(double seconds) {
    std::unique_lock lock(mutex_);
    return answered_.wait_for(lock, std::chrono::duration<double>(seconds),
                              [&] { return answering_ == 0; });
}

FrontStats HttpFront::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

bool HttpFront::admit(const std::string& client) {
    std::lock_guard lock(mutex_);
    auto& mine = per_client_[client];
    if (stats_.open >= limits_.max_connections || mine >= limits_.max_per_client) {
        if (mine == 0) per_client_.erase(client);
        ++stats_.over_capacity;
        return false;
    }
    ++mine;
    ++stats_.open;
    ++stats_.admitted;
    return true;
}

void HttpFront::release(const std::string& client) {
    std::lock_guard lock(mutex_);
    if (--per_client_[client] <= 0) per_client_.erase(client);
    --stats_.open;
}

void HttpFront::refuse(socket_t sock, int status, const std::string& message) {
    {
        std::lock_guard lock(mutex_);
        (status == 408 ? stats_.timed_out : stats_.refused) += 1;
    }
    const auto body = front_error_json(status, message);
    const auto response =
        "HTTP/1.1 " + std::to_string(status) + " " + reason_of(status) +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: close\r\n" + (status == 503 ? "Retry-After: 1\r\n" : "") + "\r\n" + body;
    send_all(sock, response.data(), response.size(), 1);
    // A lingering close: the client may still be sending the body we refused;
    // closing with it unread would reset the connection before the client
    // reads our answer. Read and drop what comes for a moment (bounded).
    ::shutdown(sock, SHUT_WR);
    char sink[4096];
    std::size_t drained = 0;
    const auto until = Clock::now() + std::chrono::milliseconds(500);
    while (drained < (1u << 20)) {
        pollfd p{sock, POLLIN, 0};
        if (poll(&p, 1, ms_until(until)) <= 0) break;
        const auto n = ::recv(sock, sink, sizeof sink, 0);
        if (n <= 0) break;
        drained += static_cast<std::size_t>(n);
    }
    if (on_refused) on_refused(status, message);
}

bool HttpFront::process_and_close_socket(socket_t sock) {
    const Lane lane = g_lane;
    if (lane == Lane::Drop) {
        std::lock_guard lock(mutex_);
        ++stats_.dropped;
    } else {
        const auto client = peer_address(sock);
        if (lane == Lane::Main && admit(client)) {
            serve_admitted(sock, client);
            release(client);
        } else {
            if (lane == Lane::Overflow) {
                std::lock_guard lock(mutex_);
                ++stats_.over_capacity;
            }
            serve_overflow(sock);
        }
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return true;
}

// Counts a request from when it has been read until its answer is written.
struct HttpFront::Answering {
    explicit Answering(HttpFront& f) : front(f) {
        std::lock_guard lock(front.mutex_);
        ++front.answering_;
    }
    ~Answering() {
        {
            std::lock_guard lock(front.mutex_);
            --front.answering_;
        }
        front.answered_.notify_all();
    }
    HttpFront& front;
};

void HttpFront::serve_admitted(socket_t sock, const std::string& client) {
    Connection conn(sock);
    const auto keep_alive_ms = static_cast<int>(limits_.keep_alive_s * 1000);
    const auto timeout =
        std::chrono::milliseconds(static_cast<long long>(limits_.request_timeout_s * 1000));
    auto deadline = Clock::now() + timeout;  // the first request: from the connection's start
    for (std::size_t count = 0; count < limits_.keep_alive_max && is_running(); ++count) {
        if (count > 0) {
            if (!conn.wait_readable(keep_alive_ms)) return;  // idle: close quietly
            deadline = Clock::now() + timeout;
        }
        RequestHead head;
        const auto r = conn.read_request(deadline, limits_, head);
        if (r.status) return refuse(sock, r.status, r.message);
        if (head.head_bytes == 0) return;  // the client closed
        RequestStream stream(sock, conn.take(head.head_bytes + head.body_bytes),
                             limits_.write_timeout_s);
        const bool last = count + 1 >= limits_.keep_alive_max || !is_running();
        bool connection_closed = false;
        bool ok = false;
        {
            Answering answering(*this);
            ok = process_request(stream, last, connection_closed, nullptr);
        }
        if (!ok || connection_closed || last) return;
    }
}

void HttpFront::serve_overflow(socket_t sock) {
    // A short look at the request: health and metrics are answered, the rest
    // is told to come back.
    const auto busy = "the server is at its connection limit (" +
                      std::to_string(limits_.max_connections) + " in all, " +
                      std::to_string(limits_.max_per_client) +
                      " per client address); retry shortly";
    Connection conn(sock);
    // A connection that has sent nothing yet is turned away at once: a flood of
    // idle ones, a second each, held every worker that health checks come through.
    if (!conn.wait_readable(200)) return refuse(sock, 503, busy);
    FrontLimits quick = limits_;
    quick.max_header_bytes = std::min<std::size_t>(limits_.max_header_bytes, 4096);
    quick.max_body_bytes = 0;
    RequestHead head;
    const auto r = conn.read_request(Clock::now() + std::chrono::seconds(1), quick, head);
    const auto path = head.target.substr(0, head.target.find('?'));
    if (r.status == 0 && head.head_bytes > 0 && head.method == "GET" &&
        (path == "/health" || path == "/metrics")) {
        RequestStream stream(sock, conn.take(head.head_bytes), limits_.write_timeout_s);
        bool connection_closed = false;
        process_request(stream, true, connection_closed, nullptr);
        return;
    }
    if (r.status == 0 && head.head_bytes == 0) return;  // the client closed
    refuse(sock, 503, busy);
}

}  // namespace itera
