#pragma once
// A strip with one bar per token of a text: how far two models' next-token
// distributions are apart there (KL divergence, nats), read with teacher
// forcing, so the difference stays visible after their samples part.

#include <QStringList>
#include <QWidget>

#include <vector>

namespace itera::ui {

class KlStrip : public QWidget {
    Q_OBJECT
public:
    explicit KlStrip(QWidget* parent = nullptr);
    /// One value per token, with the token's text for the tooltip.
    void setValues(std::vector<double> kl, QStringList pieces);
    const std::vector<double>& values() const { return m_kl; }
    QSize sizeHint() const override { return {400, 28}; }
    /// The hover text at `x`: that token and its value, then the widget's own
    /// tooltip (what the strip shows); just the latter where there is no token.
    QString tipAt(int x) const;

protected:
    bool event(QEvent* event) override;
    void paintEvent(QPaintEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;

private:
    int indexAt(int x) const;
    std::vector<double> m_kl;
    QStringList m_pieces;
    double m_scale = 1;
};

}  // namespace itera::ui
