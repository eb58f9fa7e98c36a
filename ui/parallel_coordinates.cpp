#include "parallel_coordinates.h"

#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>

#include <algorithm>
#include <cmath>

#include "sweep/samplers.h"
#include "util/error.h"

namespace itera::ui {
namespace {

QString text(const std::string& s) {
    return QString::fromStdString(s);
}

QColor mix(const QColor& a, const QColor& b, double t) {
    return QColor::fromRgbF(a.redF() * (1 - t) + b.redF() * t,
                            a.greenF() * (1 - t) + b.greenF() * t,
                            a.blueF() * (1 - t) + b.blueF() * t);
}

}  // namespace

ParallelCoordinates::ParallelCoordinates(QWidget* parent) : QWidget(parent) {
    setMouseTracking(false);
    setToolTip(
        tr("Drag along an axis to show only the trials in that range; click an axis to "
           "clear its range."));
}

void ParallelCoordinates::setView(const SweepView& view) {
    std::vector<std::optional<std::pair<double, double>>> brushes;
    for (const auto& a : m_axes) brushes.push_back(a.brush);
    const bool same_shape = m_axes.size() == view.spec.parameters.size() + 1;
    m_axes.clear();
    const auto n = view.trials.size();
    for (const auto& p : view.spec.parameters) {
        Axis a;
        a.name = text(parameter_label(p.name)) + (p.log ? tr(" (log)") : QString());
        a.low = p.is_range() ? text(number_text(p.lo)) : text(parameter_text(p.values.front()));
        a.high = p.is_range() ? text(number_text(p.hi)) : text(parameter_text(p.values.back()));
        for (const auto& t : view.trials)
            a.position.push_back(t.params.contains(p.name)
                                     ? std::optional<double>(axis_position(p, t.params[p.name]))
                                     : std::nullopt);
        m_axes.push_back(std::move(a));
    }
    double lo = INFINITY, hi = -INFINITY;
    for (const auto& t : view.trials)
        if (t.objective) lo = std::min(lo, *t.objective), hi = std::max(hi, *t.objective);
    Axis objective;
    objective.name = text(view.spec.metric);
    objective.low = std::isfinite(lo) ? QString::number(lo, 'f', 4) : QStringLiteral("–");
    objective.high = std::isfinite(hi) ? QString::number(hi, 'f', 4) : QStringLiteral("–");
    m_goodness.assign(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        const auto& v = view.trials[i].objective;
        if (!v) {
            objective.position.push_back(std::nullopt);
            continue;
        }
        const double pos = hi > lo ? (*v - lo) / (hi - lo) : 0.5;
        objective.position.push_back(pos);
        m_goodness[i] = view.spec.maximize ? pos : 1 - pos;
    }
    m_axes.push_back(std::move(objective));
    if (same_shape)
        for (std::size_t k = 0; k < m_axes.size(); ++k) m_axes[k].brush = brushes[k];
    m_best = view.best;
    update();
}

std::set<std::size_t> ParallelCoordinates::selected() const {
    std::set<std::size_t> out;
    if (m_axes.empty()) return out;
    for (std::size_t i = 0; i < m_axes.back().position.size(); ++i) {
        bool in = m_axes.back().position[i].has_value();
        for (const auto& a : m_axes) {
            if (!in) break;
            if (!a.brush) continue;
            const auto& p = a.position[i];
            in = p && *p >= a.brush->first - 1e-9 && *p <= a.brush->second + 1e-9;
        }
        if (in) out.insert(i);
    }
    return out;
}

void ParallelCoordinates::setBrush(int axis, double lo, double hi) {
    if (axis < 0 || axis >= axisCount()) return;
    auto& b = m_axes[static_cast<std::size_t>(axis)].brush;
    if (std::abs(hi - lo) < 1e-9)
        b.reset();
    else
        b = std::make_pair(std::clamp(std::min(lo, hi), 0.0, 1.0),
                           std::clamp(std::max(lo, hi), 0.0, 1.0));
    update();
    Q_EMIT selectionChanged();
}

QRectF ParallelCoordinates::plotArea() const {
    const int line = fontMetrics().height();
    // The outer axes' names are centred on them: room for half of each.
    QFont bold = font();
    bold.setBold(true);
    const QFontMetrics fm(bold);
    auto half = [&](const Axis& a) {
        return std::max(50.0, fm.horizontalAdvance(a.name) / 2.0 + 8);
    };
    const double left = m_axes.empty() ? 50 : half(m_axes.front());
    const double right = m_axes.empty() ? 50 : half(m_axes.back());
    return QRectF(left, 2.2 * line + 6, width() - left - right, height() - 3.6 * line - 12);
}

double ParallelCoordinates::axisX(int axis) const {
    const auto r = plotArea();
    return m_axes.size() < 2 ? r.center().x() : r.left() + r.width() * axis / (m_axes.size() - 1.0);
}

int ParallelCoordinates::axisAt(double x) const {
    for (int k = 0; k < axisCount(); ++k)
        if (std::abs(axisX(k) - x) < 14) return k;
    return -1;
}

double ParallelCoordinates::positionAt(double y) const {
    const auto r = plotArea();
    return std::clamp((r.bottom() - y) / r.height(), 0.0, 1.0);
}

void ParallelCoordinates::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    p.fillRect(rect(), palette().base());
    const auto r = plotArea();
    const auto fm = fontMetrics();
    if (m_axes.empty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, tr("No sweep open."));
        return;
    }
    const auto chosen = selected();
    auto y_of = [&](double pos) { return r.bottom() - r.height() * pos; };
    // Lines: poor trials first, so the good ones are drawn over them.
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < m_goodness.size(); ++i)
        if (m_axes.back().position[i]) order.push_back(i);
    std::sort(order.begin(), order.end(),
              [&](auto a, auto b) { return m_goodness[a] < m_goodness[b]; });
    if (m_best) {
        order.erase(std::remove(order.begin(), order.end(), *m_best), order.end());
        order.push_back(*m_best);
    }
    for (auto i : order) {
        QPainterPath path;
        bool first = true;
        for (int k = 0; k < axisCount(); ++k) {
            const auto& pos = m_axes[static_cast<std::size_t>(k)].position[i];
            const QPointF pt(axisX(k), y_of(pos.value_or(0.5)));
            if (first)
                path.moveTo(pt);
            else
                path.lineTo(pt);
            first = false;
        }
        QColor c = m_best == i
                       ? palette().color(QPalette::Text)
                       : mix(QColor(0xe6, 0x9f, 0x00), QColor(0x00, 0x72, 0xb2), m_goodness[i]);
        if (!chosen.count(i)) c.setAlphaF(0.12);
        p.setPen(QPen(c, m_best == i ? 2.6 : 1.3));
        p.setBrush(Qt::NoBrush);
        p.drawPath(path);
    }
    for (int k = 0; k < axisCount(); ++k) {
        const auto& a = m_axes[static_cast<std::size_t>(k)];
        const double x = axisX(k);
        if (a.brush) {
            const QRectF band(x - 6, y_of(a.brush->second), 12,
                              y_of(a.brush->first) - y_of(a.brush->second));
            p.fillRect(band, QColor(0, 114, 178, 60));
            p.setPen(QPen(QColor(0, 114, 178), 1));
            p.drawRect(band);
        }
        p.setPen(QPen(palette().color(QPalette::Mid), 1.5));
        p.drawLine(QPointF(x, r.top()), QPointF(x, r.bottom()));
        p.setPen(palette().color(QPalette::Text));
        QFont bold = font();
        bold.setBold(true);
        p.setFont(bold);
        const QString name = QFontMetrics(bold).elidedText(
            a.name, Qt::ElideRight,
            static_cast<int>(r.width() / std::max(1, axisCount() - 1)) + 40);
        p.drawText(QRectF(x - 80, 2, 160, fm.height()), Qt::AlignHCenter | Qt::AlignTop, name);
        p.setFont(font());
        p.drawText(QRectF(x - 80, 4 + fm.height(), 160, fm.height()), Qt::AlignHCenter, a.high);
        p.drawText(QRectF(x - 80, r.bottom() + 4, 160, fm.height()), Qt::AlignHCenter, a.low);
    }
}

void ParallelCoordinates::mousePressEvent(QMouseEvent* event) {
    m_dragAxis = axisAt(event->position().x());
    m_dragFrom = positionAt(event->position().y());
}

void ParallelCoordinates::mouseMoveEvent(QMouseEvent* event) {
    if (m_dragAxis < 0) return;
    auto& a = m_axes[static_cast<std::size_t>(m_dragAxis)];
    const double to = positionAt(event->position().y());
    a.brush = std::make_pair(std::min(m_dragFrom, to), std::max(m_dragFrom, to));
    update();
}

void ParallelCoordinates::mouseReleaseEvent(QMouseEvent* event) {
    if (m_dragAxis < 0) return;
    setBrush(m_dragAxis, m_dragFrom, positionAt(event->position().y()));
    m_dragAxis = -1;
}

}  // namespace itera::ui
