#include "run_table_model.h"

#include <QColor>
#include <QDateTime>
#include <QFileInfo>
#include <QLocale>
#include <QPainter>
#include <QPixmap>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "duration_text.h"
#include "model/config.h"

namespace itera::ui {
namespace {

double seconds(const std::string& from, const std::string& to) {
    const auto a = QDateTime::fromString(QString::fromStdString(from), Qt::ISODate);
    const auto b = to.empty() ? QDateTime::currentDateTimeUtc()
                              : QDateTime::fromString(QString::fromStdString(to), Qt::ISODate);
    return a.isValid() && b.isValid() ? std::max<qint64>(0, a.msecsTo(b)) / 1000.0 : 0.0;
}

std::optional<double> latest(const RunSummary& r, const char* name) {
    const auto it = r.latest.find(name);
    if (it == r.latest.end()) return std::nullopt;
    return it->second.value;
}

std::optional<double> best(const RunSummary& r, const char* name) {
    const auto it = r.best.find(name);
    if (it == r.best.end()) return std::nullopt;
    return it->second;
}

QString number(std::optional<double> v, int decimals) {
    return v ? QLocale().toString(*v, 'f', decimals) : QString();
}

}  // namespace

std::vector<RunSummary> readRunSummaries(RunStore& store) {
    std::vector<RunSummary> out;
    for (auto& run : store.list_runs()) {
        RunSummary s;
        s.latest = store.latest_metrics(run.id);
        s.best = store.best_validation(run.id);
        // The trainer's own wall time (it spans resumed sessions), else the clock.
        const auto it = s.latest.find("train_loss");
        if (it != s.latest.end())
            s.durationSeconds = it->second.wall_s;
        else if (!run.started_at.empty())
            s.durationSeconds = seconds(run.started_at, run.ended_at);
        s.record = std::move(run);
        out.push_back(std::move(s));
    }
    return out;
}

QString datasetLabel(const RunRecord& run) {
    try {
        const auto j = nlohmann::json::parse(run.dataset);
        const auto corpus = QString::fromStdString(j.value("corpus", std::string()));
        return corpus.contains(QLatin1Char('/')) ? QFileInfo(corpus).fileName() : corpus;
    } catch (const std::exception&) {
        return QString::fromStdString(run.dataset);
    }
}

QIcon statusIcon(RunStatus status) {
    static std::map<RunStatus, QIcon> cache;
    auto it = cache.find(status);
    if (it != cache.end()) return it->second;
    QColor c;
    switch (status) {
        case RunStatus::Queued:
            c = QColor(0x9e, 0x9e, 0x9e);
            break;
        case RunStatus::Running:
            c = QColor(0x1e, 0x88, 0xe5);
            break;
        case RunStatus::Paused:
            c = QColor(0xfb, 0x8c, 0x00);
            break;
        case RunStatus::Finished:
            c = QColor(0x43, 0xa0, 0x47);
            break;
        case RunStatus::Failed:
            c = QColor(0xe5, 0x39, 0x35);
            break;
        case RunStatus::Stopped:
            c = QColor(0x75, 0x75, 0x75);
            break;
        case RunStatus::Interrupted:
            c = QColor(0x8e, 0x24, 0xaa);
            break;
    }
    QPixmap pm(14, 14);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(c.darker(130));
    p.setBrush(c);
    if (status == RunStatus::Paused) {
        p.drawRect(QRectF(2.5, 2.5, 3.5, 9));
        p.drawRect(QRectF(8, 2.5, 3.5, 9));
    } else {
        p.drawEllipse(QRectF(2, 2, 10, 10));
    }
    p.end();
    return cache[status] = QIcon(pm);
}

RunTableModel::RunTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void RunTableModel::setRuns(std::vector<RunSummary> runs) {
    // Remove rows whose run is gone (from the bottom, so indices stay valid).
    for (int row = static_cast<int>(m_runs.size()) - 1; row >= 0; --row) {
        const auto id = m_runs[row].record.id;
        const bool kept = std::any_of(runs.begin(), runs.end(),
                                      [&](const RunSummary& r) { return r.record.id == id; });
        if (kept) continue;
        beginRemoveRows({}, row, row);
        m_runs.erase(m_runs.begin() + row);
        endRemoveRows();
    }
    for (auto& r : runs) {
        const int row = rowOf(r.record.id);
        if (row >= 0) {
            m_runs[row] = std::move(r);
            Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
        } else {
            const int at = static_cast<int>(m_runs.size());
            beginInsertRows({}, at, at);
            m_runs.push_back(std::move(r));
            endInsertRows();
        }
    }
}

const RunSummary* RunTableModel::run(qint64 id) const {
    const int row = rowOf(id);
    return row >= 0 ? &m_runs[row] : nullptr;
}

int RunTableModel::rowOf(qint64 id) const {
    for (std::size_t i = 0; i < m_runs.size(); ++i)
        if (m_runs[i].record.id == id) return static_cast<int>(i);
    return -1;
}

int RunTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_runs.size());
}

int RunTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RunTableModel::display(const RunSummary& r, int column) const {
    const auto& run = r.record;
    switch (column) {
        case Status:
            return QString::fromStdString(run_status_name(run.status));
        case Id:
            return QString::number(run.id);
        case Name:
            return QString::fromStdString(run.name);
        case Preset:
            return QString::fromStdString(ModelConfig::canonical_preset(run.preset));
        case Dataset:
            return datasetLabel(run);
        case Tags: {
            QStringList tags;
            for (const auto& t : run.tags) tags << QString::fromStdString(t);
            return tags.join(QStringLiteral(", "));
        }
        case Steps: {
            const auto it = r.latest.find("train_loss");
            return it == r.latest.end() ? QString() : QLocale().toString(it->second.step);
        }
        case Tokens: {
            const auto it = r.latest.find("train_loss");
            if (it == r.latest.end()) return QString();
            const double t = static_cast<double>(it->second.tokens);
            return t >= 1e6 ? QStringLiteral("%1 M").arg(QLocale().toString(t / 1e6, 'f', 1))
                            : QStringLiteral("%1 k").arg(QLocale().toString(t / 1e3, 'f', 0));
        }
        case TrainLoss:
            return number(latest(r, "train_loss"), 4);
        case ValLoss:
            return number(latest(r, "val_loss"), 4);
        case Perplexity:
            return number(latest(r, "val_perplexity"), 2);
        case BitsPerByte:
            return number(latest(r, "val_bits_per_byte"), 4);
        case BestValLoss:
            return number(best(r, "val_loss"), 4);
        case BestBitsPerByte:
            return number(best(r, "val_bits_per_byte"), 4);
        case Duration:
            return durationText(r.durationSeconds);
        case Created: {
            const auto t =
                QDateTime::fromString(QString::fromStdString(run.created_at), Qt::ISODate);
            return t.isValid() ? QLocale().toString(t.toLocalTime(), QLocale::ShortFormat)
                               : QString::fromStdString(run.created_at);
        }
    }
    return {};
}

QVariant RunTableModel::sortKey(const RunSummary& r, int column) const {
    auto num = [&](const char* name) -> QVariant {
        const auto v = latest(r, name);
        return v ? QVariant(*v) : QVariant(std::numeric_limits<double>::infinity());
    };
    switch (column) {
        case Status:
            return static_cast<int>(r.record.status);
        case Id:
            return static_cast<qlonglong>(r.record.id);
        case Steps:
        case Tokens: {
            const auto it = r.latest.find("train_loss");
            if (it == r.latest.end()) return qlonglong(-1);
            return static_cast<qlonglong>(column == Steps ? it->second.step : it->second.tokens);
        }
        case TrainLoss:
            return num("train_loss");
        case ValLoss:
            return num("val_loss");
        case Perplexity:
            return num("val_perplexity");
        case BitsPerByte:
            return num("val_bits_per_byte");
        case BestValLoss:
        case BestBitsPerByte: {
            const auto v = best(r, column == BestValLoss ? "val_loss" : "val_bits_per_byte");
            return v ? QVariant(*v) : QVariant(std::numeric_limits<double>::infinity());
        }
        case Duration:
            return r.durationSeconds;
        case Created:
            return QString::fromStdString(r.record.created_at);
        default:
            return display(r, column);
    }
}

QVariant RunTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= static_cast<int>(m_runs.size())) return {};
    const auto& r = m_runs[static_cast<std::size_t>(index.row())];
    switch (role) {
        case Qt::DisplayRole:
            return display(r, index.column());
        case Qt::DecorationRole:
            return index.column() == Status ? QVariant(statusIcon(r.record.status)) : QVariant();
        case Qt::ToolTipRole:
            if (!r.record.message.empty()) return QString::fromStdString(r.record.message);
            return index.column() == Name ? QString::fromStdString(r.record.notes) : QVariant();
        case Qt::TextAlignmentRole:
            return index.column() >= ValLoss && index.column() <= Duration
                       ? QVariant(int(Qt::AlignRight | Qt::AlignVCenter))
                       : QVariant();
        case SortRole:
            return sortKey(r, index.column());
        case FilterRole:
            return QStringList{display(r, Name).toString(),
                               display(r, Tags).toString(),
                               display(r, Status).toString(),
                               display(r, Preset).toString(),
                               QString::fromStdString(r.record.preset),  // an old name too
                               display(r, Dataset).toString()}
                .join(QLatin1Char(' '));
        case RunIdRole:
            return static_cast<qlonglong>(r.record.id);
    }
    return {};
}

QVariant RunTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
        case Status:
            return tr("Status");
        case Id:
            return tr("#");
        case Name:
            return tr("Name");
        case Preset:
            return tr("Preset");
        case Dataset:
            return tr("Dataset");
        case Tags:
            return tr("Tags");
        case Steps:
            return tr("Steps");
        case Tokens:
            return tr("Tokens");
        case TrainLoss:
            return tr("Train loss");
        case ValLoss:
            return tr("Val loss");
        case Perplexity:
            return tr("Perplexity");
        case BitsPerByte:
            return tr("Bits/byte");
        case BestValLoss:
            return tr("Best val loss");
        case BestBitsPerByte:
            return tr("Best bits/byte");
        case Duration:
            return tr("Duration");
        case Created:
            return tr("Created");
    }
    return {};
}

}  // namespace itera::ui
