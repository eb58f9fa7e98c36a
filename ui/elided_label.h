#pragma once
// A one-line label that never widens its window: a long text is elided at the
// right to the width the layout gives it, and shown whole in its tooltip.

#include <QString>
#include <QWidget>

namespace itera::ui {

class ElidedLabel : public QWidget {
    Q_OBJECT
public:
    explicit ElidedLabel(QWidget* parent = nullptr);

    void setText(const QString& text);
    QString text() const { return m_text; }
    void clear() { setText({}); }

    /// As wide as the text, but it asks for no width at all.
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    void updateTip();

    QString m_text;
};

}  // namespace itera::ui
