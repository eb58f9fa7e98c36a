// The server under malformed, slow and crowded clients, over raw sockets:
// every class of bad input gets its status at once with a JSON error, no
// request ends the process, pipelined requests are answered in order, slow
// clients meet a whole-request deadline, and the connection caps keep
// /health answering.

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "model/checkpoint.h"
#include "serve/server.h"
#include "temp_dir.h"

namespace itera {
namespace {

using Json = nlohmann::json;

std::filesystem::path write_model(const std::filesystem::path& dir) {
    IteraModel m(ModelConfig::preset("micro", 259));
    m->initialize(5);
    const auto path = dir / "m.safetensors";
    save_checkpoint(m, make_byte_tokenizer()->serialize(), path);
    return path;
}

// A raw TCP client: what is sent is exactly what the test wrote.
class Raw {
public:
    Raw(int port, const char* from = "127.0.0.1") {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in src{};
        src.sin_family = AF_INET;
        ::inet_pton(AF_INET, from, &src.sin_addr);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof src);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~Raw() { ::close(fd_); }
    bool connected() const { return connected_; }
    void send(const std::string& s) { ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL); }
    /// Everything the server sends until it closes or `seconds` pass.
    std::string read_all(double seconds = 20) {
        std::string out;
        const auto end = std::chrono::steady_clock::now() +
                         std::chrono::milliseconds(static_cast<int>(seconds * 1000));
        char buf[4096];
        while (std::chrono::steady_clock::now() < end) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            const auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) break;
            out.append(buf, static_cast<std::size_t>(n));
        }
        return out;
    }
    /// Reads until `count` complete responses (by Content-Length) arrived.
    std::vector<std::string> read_responses(std::size_t count, double seconds = 20) {
        std::string buf;
        std::vector<std::string> out;
        const auto end = std::chrono::steady_clock::now() +
                         std::chrono::milliseconds(static_cast<int>(seconds * 1000));
        char chunk[4096];
        while (out.size() < count && std::chrono::steady_clock::now() < end) {
            for (;;) {  // split what is buffered into complete responses
                const auto head = buf.find("\r\n\r\n");
                if (head == std::string::npos) break;
                const auto cl = buf.find("Content-Length: ");
                if (cl == std::string::npos || cl > head) break;
                const auto length = std::stoul(buf.substr(cl + 16));
                if (buf.size() < head + 4 + length) break;
                out.push_back(buf.substr(0, head + 4 + length));
                buf.erase(0, head + 4 + length);
            }
            if (out.size() >= count) break;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
            if (n <= 0) break;
            buf.append(chunk, static_cast<std::size_t>(n));
        }
        return out;
    }

private:
    int fd_ = -1;
    bool connected_ = false;
};

int status_of(const std::string& response) {
    if (response.rfind("HTTP/1.1 ", 0) != 0) return 0;
    return std::stoi(response.substr(9, 3));
}

Json body_of(const std::string& response) {
    const auto at = response.find("\r\n\r\n");
    return Json::parse(response.substr(at + 4), nullptr, false);
}

class Front : public ::testing::Test {
protected:
    void start(ServerOptions o = {}) {
        o.host = "127.0.0.1";
        o.port = 0;
        o.db = dir_.path() / "runs.sqlite";
        server_ =
            std::make_unique<Server>(std::vector<ServedModel>{{"m", write_model(dir_.path())}}, o);
        port_ = server_->bind();
        thread_ = std::thread([this] { server_->run(); });
    }
    void TearDown() override {
        if (server_) server_->stop();
        if (thread_.joinable()) thread_.join();
    }
    std::string exchange(const std::string& request) {
        Raw c(port_);
        c.send(request);
        return c.read_all();
    }
    bool healthy() {
        httplib::Client c("127.0.0.1", port_);
        c.set_read_timeout(10, 0);
        auto r = c.Get("/health");
        return r && r->status == 200;
    }

    testing::TempDir dir_;
    std::unique_ptr<Server> server_;
    std::thread thread_;
    int port_ = 0;
};

TEST_F(Front, MalformedRequestsGetTheirStatusAsJsonAndNothingDies) {
    start();
    struct Case {
        std::string request;
        int status;
    };
    // A POST whose Content-Length is the body's, counted here, not by hand.
    auto post = [](const std::string& path, const std::string& body) {
        return "POST " + path + " HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\n\r\n" + body;
    };
    const std::vector<Case> cases = {
        {"GET /%ff HTTP/1.1\r\nHost: x\r\n\r\n", 404},
        {"GET /%c3%28/%00?x=%fe HTTP/1.1\r\nHost: x\r\n\r\n", 404},
        {"POST /infer HTTP/1.1\r\nHost: x\r\n\r\n", 411},
        {"POST /infer HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400},
        {"POST /infer HTTP/1.1\r\nContent-Length: 12abc\r\n\r\n", 400},
        {"POST /infer HTTP/1.1\r\nContent-Length: 1000000000000000\r\n\r\n", 413},
        {"POST /infer HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
        {"POST /infer HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 411},
        {"BREW /pot HTTP/3.0\r\n\r\n", 505},
        {"this is not http\r\n\r\n", 400},
        {"GET /health HTTP/1.1\r\n" + std::string(20000, 'X') + ": y\r\n\r\n", 431},
        {post("/infer", "{\"input_text\": \"\xff\"}"), 400},
        {post("/v1/completions", "{\"prompt\": \"a\", \"n\": 1e400}"), 400},
        {post("/v1/completions", "[[[[[[[[[[[[[[[["), 400},
    };
    for (const auto& c : cases) {
        const auto response = exchange(c.request);
        ASSERT_EQ(status_of(response), c.status) << c.request.substr(0, 80) << "\n" << response;
        const auto body = body_of(response);
        ASSERT_TRUE(body.is_object() && body.contains("error")) << response;
        EXPECT_EQ(body["error"]["status"], c.status);
        // Never a raw byte of the request echoed back: the body is valid UTF-8 JSON.
        EXPECT_EQ(response.find('\xff'), std::string::npos);
        ASSERT_TRUE(healthy()) << "after " << c.request.substr(0, 60);
    }
    // A body nested far deeper than any request needs.
    const std::string deep(100000, '[');
    const auto response =
        exchange("POST /v1/completions HTTP/1.1\r\nContent-Length: " + std::to_string(deep.size()) +
                 "\r\n\r\n" + deep);
    EXPECT_EQ(status_of(response), 400);
    EXPECT_TRUE(healthy());
}

TEST_F(Front, PipelinedRequestsAreAnsweredInOrder) {
    start();
    Raw c(port_);
    const std::string body = R"({"input_text": "Call me", "max_length": 3, "temperature": 0})";
    c.send(
        "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        "POST /infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body +
        "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto responses = c.read_responses(4);
    ASSERT_EQ(responses.size(), 4u);
    EXPECT_EQ(status_of(responses[0]), 200);
    EXPECT_EQ(body_of(responses[0])["status"], "ok");
    EXPECT_EQ(status_of(responses[1]), 200);
    EXPECT_TRUE(body_of(responses[1]).contains("output_text"));
    EXPECT_EQ(status_of(responses[2]), 404);
    EXPECT_EQ(status_of(responses[3]), 200);
    EXPECT_TRUE(body_of(responses[3]).contains("connections"));
}

TEST_F(Front, ASlowClientMeetsTheRequestDeadline) {
    ServerOptions o;
    o.request_timeout_s = 0.5;
    start(o);
    Raw c(port_);
    c.send("GET /hea");  // and nothing more
    const auto response = c.read_all();
    EXPECT_EQ(status_of(response), 408) << response;
    // A body that never completes is cut off the same way.
    Raw b(port_);
    b.send("POST /infer HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"input");
    EXPECT_EQ(status_of(b.read_all()), 408);
}

TEST_F(Front, ConnectionCapsTurnAwayTheExcessButHealthStillAnswers) {
    ServerOptions o;
    o.http_threads = 8;
    o.max_connections = 6;
    o.max_connections_per_client = 2;
    o.request_timeout_s = 30;
    start(o);
    // Two silent connections from one address take its share.
    std::vector<std::unique_ptr<Raw>> silent;
    for (int i = 0; i < 2; ++i) {
        silent.push_back(std::make_unique<Raw>(port_, "127.0.0.2"));
        ASSERT_TRUE(silent.back()->connected());
        silent.back()->send("GET /he");
    }
    // Wait until both hold their slots (the server counts them as open).
    ASSERT_TRUE([&] {
        for (int i = 0; i < 200; ++i) {
            httplib::Client c("127.0.0.1", port_);
            auto r = c.Get("/metrics");
            if (r && Json::parse(r->body)["connections"]["open"].get<int>() >= 3) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }());
    // A third from the same address: health answers, anything else is told to retry.
    Raw health(port_, "127.0.0.2");
    health.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(status_of(health.read_all()), 200);
    Raw work(port_, "127.0.0.2");
    const std::string body = R"({"input_text": "a", "max_length": 2})";
    work.send("POST /infer HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) +
              "\r\n\r\n" + body);
    const auto refused = work.read_all();
    EXPECT_EQ(status_of(refused), 503) << refused;
    EXPECT_NE(refused.find("Retry-After"), std::string::npos);
    // Another address is not affected.
    EXPECT_TRUE(healthy());
    httplib::Client c("127.0.0.1", port_);
    auto r = c.Post("/infer", body, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

}  // namespace
}  // namespace itera
