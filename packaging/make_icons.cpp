// Draws the application icon once, as data, and writes it both as the
// scalable SVG and as the PNG sizes of the hicolor theme, so the two never
// disagree. Run at build time: itera_make_icons OUTDIR
//
// The design: a signal running through a state-space scan (the wave) under
// four experts, two of them chosen (top-2 routing).

#include <QGuiApplication>
#include <QImage>
#include <QPainter>
#include <QPainterPath>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace {

constexpr double kSize = 256, kRadius = 52;
const char* const kBackground = "#1f3a5f";
const char* const kWave = "#7fd3ff";
const char* const kChosen = "#ffb347";
const char* const kIdle = "#56739a";

struct Dot {
    double x, y, r;
    const char* color;
};

std::vector<QPointF> wave() {
    std::vector<QPointF> points;
    for (int i = 0; i <= 48; ++i) {
        const double t = i / 48.0;
        const double x = 40 + t * 176;
        const double y = 170 - 34 * std::sin(t * 2 * M_PI * 1.25) * std::exp(-1.2 * t);
        points.emplace_back(x, y);
    }
    return points;
}

const std::vector<Dot> dots = {
    {64, 78, 15, kIdle}, {107, 78, 15, kChosen}, {149, 78, 15, kChosen}, {192, 78, 15, kIdle}};

std::string svg() {
    std::string s =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"256\" height=\"256\" "
        "viewBox=\"0 0 256 256\">\n";
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "  <rect x=\"8\" y=\"8\" width=\"240\" height=\"240\" rx=\"%g\" fill=\"%s\"/>\n",
                  kRadius, kBackground);
    s += buf;
    for (const auto& d : dots) {
        std::snprintf(buf, sizeof buf, "  <circle cx=\"%g\" cy=\"%g\" r=\"%g\" fill=\"%s\"/>\n",
                      d.x, d.y, d.r, d.color);
        s += buf;
    }
    s += "  <polyline fill=\"none\" stroke=\"" + std::string(kWave) +
         "\" stroke-width=\"14\" stroke-linecap=\"round\" stroke-linejoin=\"round\" points=\"";
    for (const auto& p : wave()) {
        std::snprintf(buf, sizeof buf, "%.1f,%.1f ", p.x(), p.y());
        s += buf;
    }
    s.back() = '"';
    s += "/>\n</svg>\n";
    return s;
}

QImage png(int size) {
    QImage image(size, size, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::transparent);
    QPainter p(&image);
    p.setRenderHint(QPainter::Antialiasing);
    p.scale(size / kSize, size / kSize);
    p.setPen(Qt::NoPen);
    p.setBrush(QColor(QString::fromLatin1(kBackground)));
    p.drawRoundedRect(QRectF(8, 8, 240, 240), kRadius, kRadius);
    for (const auto& d : dots) {
        p.setBrush(QColor(QString::fromLatin1(d.color)));
        p.drawEllipse(QPointF(d.x, d.y), d.r, d.r);
    }
    QPen pen{QColor(QString::fromLatin1(kWave)), 14, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin};
    p.setPen(pen);
    p.setBrush(Qt::NoBrush);
    const auto points = wave();
    p.drawPolyline(points.data(), static_cast<int>(points.size()));
    return image;
}

}  // namespace

int main(int argc, char** argv) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    if (argc != 2) {
        std::fprintf(stderr, "usage: itera_make_icons OUTDIR\n");
        return 2;
    }
    const std::string dir = argv[1];
    std::ofstream(dir + "/itera-workbench.svg") << svg();
    for (int size : {16, 22, 24, 32, 48, 64, 128, 256})
        if (!png(size).save(QString::fromStdString(dir + "/itera-workbench-" +
                                                   std::to_string(size) + ".png"))) {
            std::fprintf(stderr, "cannot write the %d px icon in %s\n", size, dir.c_str());
            return 1;
        }
    return 0;
}
