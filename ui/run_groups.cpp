#include "run_groups.h"

#include <QObject>

#include <nlohmann/json.hpp>

#include <cmath>

namespace itera::ui {
namespace {

using json = nlohmann::json;

json settingsOf(const RunSummary& r) {
    try {
        return json::parse(r.record.config_json);
    } catch (const std::exception&) {
        return json::object();  // unreadable settings: a group of their own
    }
}

// The group key and its label for one run.
std::pair<std::string, QString> keyOf(const RunSummary& r, RunGrouping by) {
    const auto s = settingsOf(r);
    auto setting = [&](const char* name, const json& in) -> std::pair<std::string, QString> {
        if (!in.is_object() || !in.contains(name))
            return {"", QObject::tr("no %1").arg(QLatin1String(name))};
        const auto v = in[name].dump();
        return {v, QStringLiteral("%1 %2").arg(QLatin1String(name), QString::fromStdString(v))};
    };
    switch (by) {
        case RunGrouping::AllButSeed: {
            auto k = s;
            if (k.is_object()) {
                k.erase("seed");
                k.erase("threads");
            }
            const auto key = k.dump() + "|" + r.record.dataset;
            return {key, QString::fromStdString(r.record.name)};
        }
        case RunGrouping::Preset:
            return {r.record.preset,
                    QString::fromStdString(r.record.preset.empty() ? "–" : r.record.preset)};
        case RunGrouping::Dataset: {
            const auto label = datasetLabel(r.record);
            return {label.toStdString(), label};
        }
        case RunGrouping::LearningRate:
            return setting("lr", s);
        case RunGrouping::WeightDecay:
            return setting("weight_decay", s);
        case RunGrouping::Dropout:
            return setting("dropout", s.is_object() ? s.value("model", json::object()) : json());
        case RunGrouping::Steps:
            return setting("steps", s);
        case RunGrouping::None:
            break;
    }
    return {std::to_string(r.record.id), QString::number(r.record.id)};
}

GroupStat statOf(const std::vector<double>& v) {
    GroupStat s;
    s.count = static_cast<int>(v.size());
    if (v.empty()) return s;
    for (double x : v) s.mean += x / static_cast<double>(v.size());
    double ss = 0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.stddev = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0;
    return s;
}

}  // namespace

std::vector<std::pair<RunGrouping, QString>> runGroupings() {
    return {{RunGrouping::None, QObject::tr("No grouping")},
            {RunGrouping::AllButSeed, QObject::tr("Same settings but the seed")},
            {RunGrouping::Preset, QObject::tr("Preset")},
            {RunGrouping::Dataset, QObject::tr("Dataset")},
            {RunGrouping::LearningRate, QObject::tr("Learning rate")},
            {RunGrouping::WeightDecay, QObject::tr("Weight decay")},
            {RunGrouping::Dropout, QObject::tr("Dropout")},
            {RunGrouping::Steps, QObject::tr("Steps")}};
}

std::vector<RunGroup> groupRuns(const std::vector<RunSummary>& runs, RunGrouping by) {
    std::vector<std::string> keys;
    std::vector<RunGroup> groups;
    std::vector<std::vector<double>> bpb, loss;
    for (const auto& r : runs) {
        const auto [key, label] = keyOf(r, by);
        std::size_t g = 0;
        while (g < keys.size() && keys[g] != key) ++g;
        if (g == keys.size()) {
            keys.push_back(key);
            groups.push_back({label, {}, {}, {}});
            bpb.emplace_back();
            loss.emplace_back();
        }
        groups[g].ids.push_back(r.record.id);
        if (auto it = r.best.find("val_bits_per_byte"); it != r.best.end())
            bpb[g].push_back(it->second);
        if (auto it = r.best.find("val_loss"); it != r.best.end()) loss[g].push_back(it->second);
    }
    for (std::size_t g = 0; g < groups.size(); ++g) {
        groups[g].bestBitsPerByte = statOf(bpb[g]);
        groups[g].bestValLoss = statOf(loss[g]);
        if (by == RunGrouping::AllButSeed && groups[g].ids.size() > 1)
            groups[g].label =
                QObject::tr("%1 seeds of “%2”").arg(groups[g].ids.size()).arg(groups[g].label);
    }
    return groups;
}

QString statText(const GroupStat& s) {
    if (s.count == 0) return QStringLiteral("–");
    if (s.count == 1) return QStringLiteral("%1 (1)").arg(s.mean, 0, 'f', 4);
    return QStringLiteral("%1 ± %2 (%3)")
        .arg(s.mean, 0, 'f', 4)
        .arg(s.stddev, 0, 'f', 4)
        .arg(s.count);
}

}  // namespace itera::ui
