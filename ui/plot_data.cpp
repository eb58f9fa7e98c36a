#include "plot_data.h"

#include <algorithm>
#include <cmath>

namespace itera::ui {

void appendSmoothed(QVector<double>& out, const QVector<double>& y, double weight) {
    // Undo the bias correction of the last value to recover the raw average.
    const qsizetype start = out.size();
    double power = std::pow(weight, static_cast<double>(start));  // w^n
    double avg = start > 0 ? out.back() * (1 - power) : 0.0;
    out.reserve(y.size());
    for (qsizetype i = start; i < y.size(); ++i) {
        avg = weight * avg + (1 - weight) * y[i];
        power *= weight;
        out.push_back(weight > 0 ? avg / (1 - power) : y[i]);
    }
}

QVector<double> smoothed(const QVector<double>& y, double weight) {
    QVector<double> out;
    appendSmoothed(out, y, weight);
    return out;
}

Polyline envelope(const QVector<double>& x, const QVector<double>& y, double x0, double x1,
                  int pixels) {
    Polyline out;
    if (x.isEmpty()) return out;
    auto first = std::lower_bound(x.begin(), x.end(), x0) - x.begin();
    auto last = std::upper_bound(x.begin(), x.end(), x1) - x.begin();  // one past
    first = std::max<qsizetype>(0, first - 1);
    last = std::min<qsizetype>(x.size(), last + 1);
    const qsizetype n = last - first;
    if (pixels < 1 || n <= 4 * static_cast<qsizetype>(pixels) || !(x1 > x0)) {
        out.x = x.mid(first, n);
        out.y = y.mid(first, n);
        return out;
    }
    out.x.reserve(4 * pixels + 4);
    out.y.reserve(4 * pixels + 4);
    const double scale = pixels / (x1 - x0);
    auto column = [&](double v) { return static_cast<long long>(std::floor((v - x0) * scale)); };
    qsizetype i = first;
    while (i < last) {
        const auto c = column(x[i]);
        qsizetype j = i, lo = i, hi = i;
        while (j < last && column(x[j]) == c) {
            if (y[j] < y[lo]) lo = j;
            if (y[j] > y[hi]) hi = j;
            ++j;
        }
        // first, min and max in x order, last: the line enters and leaves the
        // column where the data does and spans its whole range.
        qsizetype keep[4] = {i, std::min(lo, hi), std::max(lo, hi), j - 1};
        qsizetype previous = -1;
        for (auto k : keep) {
            if (k == previous) continue;
            out.x.push_back(x[k]);
            out.y.push_back(y[k]);
            previous = k;
        }
        i = j;
    }
    return out;
}

int nearestIndex(const QVector<double>& x, double at) {
    if (x.isEmpty()) return -1;
    const auto it = std::lower_bound(x.begin(), x.end(), at);
    qsizetype i = it - x.begin();
    if (i == x.size()) return static_cast<int>(x.size() - 1);
    if (i > 0 && at - x[i - 1] < x[i] - at) --i;
    return static_cast<int>(i);
}

}  // namespace itera::ui
