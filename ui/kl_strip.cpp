#include "kl_strip.h"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>

#include <algorithm>
#include <cmath>

namespace itera::ui {

KlStrip::KlStrip(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("klStrip"));
    setMouseTracking(true);
    setMinimumHeight(22);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

void KlStrip::setValues(std::vector<double> kl, QStringList pieces) {
    m_kl = std::move(kl);
    m_pieces = std::move(pieces);
    // Bars scale to the largest value (at least 0.05 nats, so noise stays small).
    m_scale = std::max(0.05, m_kl.empty() ? 0.0 : *std::max_element(m_kl.begin(), m_kl.end()));
    update();
}

int KlStrip::indexAt(int x) const {
    if (m_kl.empty() || width() <= 0) return -1;
    const int i = static_cast<int>(static_cast<double>(x) * m_kl.size() / width());
    return std::clamp(i, 0, static_cast<int>(m_kl.size()) - 1);
}

void KlStrip::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), QColor(250, 250, 250));
    p.setPen(QColor(0, 0, 0, 40));
    p.drawRect(rect().adjusted(0, 0, -1, -1));
    if (m_kl.empty()) return;
    const double w = static_cast<double>(width()) / m_kl.size();
    for (std::size_t i = 0; i < m_kl.size(); ++i) {
        const double f = std::clamp(m_kl[i] / m_scale, 0.0, 1.0);
        const double h = std::max(1.0, f * (height() - 2));
        const QColor c(static_cast<int>(255 - 57 * f), static_cast<int>(205 - 165 * f),
                       static_cast<int>(205 - 165 * f));
        p.fillRect(QRectF(i * w, height() - 1 - h, std::max(1.0, w - (w > 3 ? 1 : 0)), h), c);
    }
}

QString KlStrip::tipAt(int x) const {
    const int i = indexAt(x);
    if (i < 0) return toolTip();
    auto piece = i < m_pieces.size() ? m_pieces[i] : QString();
    piece.replace(QLatin1Char('\n'), QStringLiteral("⏎"));
    const auto token = tr("token %1 “%2”: KL = %3 nats").arg(i).arg(piece).arg(m_kl[i], 0, 'g', 3);
    return toolTip().isEmpty() ? token : token + QLatin1Char('\n') + toolTip();
}

// The tooltip event would show the widget's fixed tooltip over the per-token one.
bool KlStrip::event(QEvent* event) {
    if (event->type() != QEvent::ToolTip) return QWidget::event(event);
    const auto* help = static_cast<QHelpEvent*>(event);
    const auto tip = tipAt(help->pos().x());
    if (tip.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(help->globalPos(), tip, this);
    return true;
}

void KlStrip::mouseMoveEvent(QMouseEvent* event) {
    if (indexAt(static_cast<int>(event->position().x())) < 0) return;
    QToolTip::showText(event->globalPosition().toPoint(),
                       tipAt(static_cast<int>(event->position().x())), this);
}

}  // namespace itera::ui
