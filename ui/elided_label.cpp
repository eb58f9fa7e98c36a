#include "elided_label.h"

#include <QPainter>

namespace itera::ui {

ElidedLabel::ElidedLabel(QWidget* parent) : QWidget(parent) {
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
}

void ElidedLabel::setText(const QString& text) {
    if (text == m_text) return;
    m_text = text;
    updateTip();
    updateGeometry();
    update();
}

QSize ElidedLabel::sizeHint() const {
    return {fontMetrics().horizontalAdvance(m_text) + 4, fontMetrics().height() + 2};
}

QSize ElidedLabel::minimumSizeHint() const {
    return {0, fontMetrics().height() + 2};
}

void ElidedLabel::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setPen(
        palette().color(isEnabled() ? QPalette::Active : QPalette::Disabled, QPalette::WindowText));
    const auto shown = fontMetrics().elidedText(m_text, Qt::ElideRight, width());
    p.drawText(rect(), Qt::AlignLeft | Qt::AlignVCenter, shown);
}

void ElidedLabel::resizeEvent(QResizeEvent*) {
    updateTip();
}

void ElidedLabel::updateTip() {
    setToolTip(fontMetrics().horizontalAdvance(m_text) > width() ? m_text : QString());
}

}  // namespace itera::ui
