// The run store's record of the HTTP server: answered requests and feedback.

#include <sqlite3.h>

#include "store/run_store.h"
#include "store/statement.h"
#include "util/error.h"
#include "util/time_text.h"

namespace itera {
namespace {

ServedRecord read_served(sql::Statement& s, int c) {
    ServedRecord r;
    r.id = s.integer(c);
    if (!s.null(c + 1)) r.run_id = s.integer(c + 1);
    r.model_path = s.text(c + 2);
    r.variant = s.text(c + 3);
    r.endpoint = s.text(c + 4);
    r.prompt = s.text(c + 5);
    r.settings = s.text(c + 6);
    r.output = s.text(c + 7);
    r.tokens = s.integer(c + 8);
    r.latency_ms = s.real(c + 9);
    r.created_at = s.text(c + 10);
    return r;
}

constexpr const char* kServedColumns =
    "served.id, served.run_id, served.model_path, served.variant, served.endpoint, "
    "served.prompt, served.settings, served.output, served.tokens, served.latency_ms, "
    "served.created_at";

}  // namespace

std::int64_t RunStore::add_served(const ServedRecord& r) {
    sql::Statement s(db_,
                     "INSERT INTO served (run_id, model_path, variant, endpoint, prompt, settings, "
                     "output, tokens, latency_ms, created_at) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    s.bind(1, r.run_id)
        .bind(2, r.model_path)
        .bind(3, r.variant)
        .bind(4, r.endpoint)
        .bind(5, r.prompt)
        .bind(6, r.settings)
        .bind(7, r.output)
        .bind(8, r.tokens)
        .bind(9, r.latency_ms)
        .bind(10, utc_now())
        .run();
    return sqlite3_last_insert_rowid(db_);
}

std::optional<ServedRecord> RunStore::find_served(std::int64_t id) {
    sql::Statement s(
        db_, (std::string("SELECT ") + kServedColumns + " FROM served WHERE id = ?1").c_str());
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return read_served(s, 0);
}

std::int64_t RunStore::add_feedback(const FeedbackRecord& f) {
    if (f.rating < 1 || f.rating > 5)
        throw Error("user_rating must be an integer from 1 to 5, got " + std::to_string(f.rating));
    if (!find_served(f.served_id))
        throw Error("no answer with feedback_id " + std::to_string(f.served_id));
    sql::Statement s(db_,
                     "INSERT INTO feedback (served_id, rating, correctness, comments, created_at) "
                     "VALUES (?1, ?2, ?3, ?4, ?5)");
    s.bind(1, f.served_id)
        .bind(2, static_cast<std::int64_t>(f.rating))
        .bind(3, f.correctness)
        .bind(4, f.comments)
        .bind(5, utc_now())
        .run();
    return sqlite3_last_insert_rowid(db_);
}

std::vector<FeedbackRecord> RunStore::feedback(int min_rating, std::size_t limit) {
    sql::Statement s(db_, (std::string("SELECT feedback.id, feedback.served_id, feedback.rating, "
                                       "feedback.correctness, feedback.comments, "
                                       "feedback.created_at, ") +
                           kServedColumns +
                           " FROM feedback JOIN served ON served.id = feedback.served_id "
                           "WHERE feedback.rating >= ?1 ORDER BY feedback.id DESC LIMIT ?2")
                              .c_str());
    s.bind(1, static_cast<std::int64_t>(min_rating)).bind(2, static_cast<std::int64_t>(limit));
    std::vector<FeedbackRecord> out;
    while (s.step()) {
        FeedbackRecord f;
        f.id = s.integer(0);
        f.served_id = s.integer(1);
        f.rating = static_cast<int>(s.integer(2));
        f.correctness = s.text(3);
        f.comments = s.text(4);
        f.created_at = s.text(5);
        f.served = read_served(s, 6);
        out.push_back(std::move(f));
    }
    return out;
}

}  // namespace itera
