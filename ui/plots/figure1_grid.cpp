#include "ui/plots/figure1_grid.h"

#include <QFileInfo>
#include <QFont>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSvgGenerator>
#include <QTextLayout>
#include <QTextOption>

#include <algorithm>
#include <cmath>

#include "core/io/errors.h"

namespace syn::ui {
namespace {

// Encoder labels are long unbroken ids ("openai/clip-vit-large-patch14"): wrap at spaces when
// possible, anywhere otherwise, so nothing spills out of its column.
QTextOption wrap_option(Qt::Alignment alignment) {
    QTextOption option(alignment);
    option.setWrapMode(QTextOption::WrapAtWordBoundaryOrAnywhere);
    return option;
}

QFont figure_font(const Figure1Style& style, bool bold, double scale = 1.0) {
    // A fixed family keeps the layout the same on every machine that has it (DejaVu ships with Debian's
    // fontconfig); Qt falls back to the default sans otherwise.
    QFont font("DejaVu Sans");
    font.setStyleHint(QFont::SansSerif);
    font.setPixelSize(std::max(6, static_cast<int>(std::lround(style.font_px * scale))));
    font.setBold(bold);
    return font;
}

// Height of `text` wrapped to `width` in `font`, as drawText with wrap_option lays it out.
int text_height(const QFont& font, int width, const QString& text) {
    if (text.isEmpty()) return 0;
    qreal height = 0;
    // One QTextLayout per paragraph: QTextLayout does not break lines at '\n' by itself.
    for (const QString& paragraph : text.split('\n')) {
        QTextLayout layout(paragraph, font);
        layout.setTextOption(wrap_option(Qt::AlignLeft));
        layout.beginLayout();
        bool any = false;
        for (QTextLine line = layout.createLine(); line.isValid(); line = layout.createLine()) {
            line.setLineWidth(width);
            height += line.height();
            any = true;
        }
        layout.endLayout();
        if (!any) height += QFontMetricsF(font).height();
    }
    return static_cast<int>(std::ceil(height));
}

bool same_encoder(const QVector<Figure1Row>& rows, bool clip_side) {
    for (const Figure1Row& r : rows) {
        const QString& e = clip_side ? r.clip.encoder : r.bert.encoder;
        if (e != (clip_side ? rows.front().clip.encoder : rows.front().bert.encoder)) return false;
    }
    return !rows.isEmpty();
}

// Under a face: its CLIP-S, and its encoder when the header cannot name one for the whole column.
QString under_face_text(const Figure1Face& face, bool column_uniform) {
    QString text = figure1_score_text(face.clip_score);
    if (!column_uniform && !face.encoder.isEmpty()) text += "\n" + face.encoder;
    return text;
}

void draw_face(QPainter& painter, const Figure1Face& face, const QRect& box, const QRect& target,
               const Figure1Style& style) {
    if (face.image.isNull()) {
        painter.fillRect(box, QColor(235, 235, 235));
        painter.setPen(QColor(120, 120, 120));
        painter.setFont(figure_font(style, false, 0.85));
        painter.drawText(box, Qt::AlignCenter, "no image");
        return;
    }
    // Scaled here rather than by the painter: SVG and PDF viewers would smooth a small image drawn
    // large, and the study's faces are shown with their pixels visible.
    const bool up = target.width() >= face.image.width();
    const QImage scaled = face.image.convertToFormat(QImage::Format_RGB32)
                              .scaled(target.size(), Qt::IgnoreAspectRatio,
                                      up ? Qt::FastTransformation : Qt::SmoothTransformation);
    painter.save();
    painter.setRenderHint(QPainter::SmoothPixmapTransform, false);
    painter.drawImage(target, scaled);
    painter.restore();
}

}  // namespace

QString figure1_score_text(double clip_score) {
    if (!std::isfinite(clip_score)) return "CLIP-S –";
    return QString("CLIP-S %1").arg(clip_score, 0, 'f', 1);
}

QString figure1_header(const QVector<Figure1Row>& rows, bool clip_side) {
    QString header = clip_side ? "CLIP-style encoder" : "BERT-style encoder";
    if (same_encoder(rows, clip_side)) {
        const QString& e = clip_side ? rows.front().clip.encoder : rows.front().bert.encoder;
        if (!e.isEmpty()) header += "\n" + e;
    }
    return header;
}

QRect figure1_image_rect(const QSize& image_size, const QRect& box) {
    if (image_size.isEmpty() || box.isEmpty()) return box;
    QSize size;
    const int k = std::min(box.width() / image_size.width(), box.height() / image_size.height());
    if (k >= 1) size = image_size * k;  // integer factor: every source pixel becomes a k x k square
    else size = image_size.scaled(box.size(), Qt::KeepAspectRatio);
    QRect rect(QPoint(0, 0), size);
    rect.moveCenter(box.center());
    // QRect::center rounds down; keep the rectangle inside the box whatever the parity.
    rect.moveLeft(box.left() + (box.width() - size.width()) / 2);
    rect.moveTop(box.top() + (box.height() - size.height()) / 2);
    return rect;
}

Figure1Layout figure1_layout(const QVector<Figure1Row>& rows, const Figure1Style& style) {
    Figure1Layout l;
    const QFont plain = figure_font(style, false), bold = figure_font(style, true);
    const int face = std::max(8, style.face_px);
    const int x_caption = style.margin;
    const int x_clip = x_caption + style.caption_width + style.gap;
    const int x_bert = x_clip + face + style.gap;
    const int width = x_bert + face + style.margin;
    int y = style.margin;
    if (!style.title.isEmpty()) {
        const int h = text_height(figure_font(style, true, 1.2), width - 2 * style.margin, style.title);
        l.title = QRect(style.margin, y, width - 2 * style.margin, h);
        y += h + style.gap;
    }
    l.header_clip_text = figure1_header(rows, true);
    l.header_bert_text = figure1_header(rows, false);
    const int header_h = std::max({text_height(bold, style.caption_width, "Caption"),
                                   text_height(bold, face, l.header_clip_text),
                                   text_height(bold, face, l.header_bert_text)});
    l.header_caption = QRect(x_caption, y, style.caption_width, header_h);
    l.header_clip = QRect(x_clip, y, face, header_h);
    l.header_bert = QRect(x_bert, y, face, header_h);
    y += header_h + style.gap;
    const bool clip_uniform = same_encoder(rows, true), bert_uniform = same_encoder(rows, false);
    for (const Figure1Row& row : rows) {
        const int caption_h = text_height(plain, style.caption_width, row.caption);
        const int under_h = std::max(text_height(plain, face, under_face_text(row.clip, clip_uniform)),
                                     text_height(plain, face, under_face_text(row.bert, bert_uniform)));
        const int row_h = std::max(caption_h, face + 4 + under_h);
        l.caption.push_back(QRect(x_caption, y, style.caption_width, std::max(caption_h, face)));
        l.clip_face.push_back(QRect(x_clip, y, face, face));
        l.bert_face.push_back(QRect(x_bert, y, face, face));
        l.clip_image.push_back(figure1_image_rect(row.clip.image.size(), l.clip_face.back()));
        l.bert_image.push_back(figure1_image_rect(row.bert.image.size(), l.bert_face.back()));
        l.clip_score.push_back(QRect(x_clip, y + face + 4, face, under_h));
        l.bert_score.push_back(QRect(x_bert, y + face + 4, face, under_h));
        y += row_h + style.gap;
    }
    l.size = QSize(width, y - style.gap + style.margin);
    return l;
}

void paint_figure1(QPainter& painter, const QVector<Figure1Row>& rows, const Figure1Style& style) {
    const Figure1Layout l = figure1_layout(rows, style);
    const QFont plain = figure_font(style, false), bold = figure_font(style, true);
    painter.save();
    painter.fillRect(QRect(QPoint(0, 0), l.size), Qt::white);
    painter.setRenderHint(QPainter::TextAntialiasing, true);
    painter.setPen(Qt::black);
    if (!l.title.isEmpty()) {
        painter.setFont(figure_font(style, true, 1.2));
        painter.drawText(QRectF(l.title), style.title, wrap_option(Qt::AlignLeft | Qt::AlignTop));
    }
    painter.setFont(bold);
    painter.drawText(QRectF(l.header_caption), "Caption", wrap_option(Qt::AlignLeft | Qt::AlignBottom));
    painter.drawText(QRectF(l.header_clip), l.header_clip_text, wrap_option(Qt::AlignHCenter | Qt::AlignBottom));
    painter.drawText(QRectF(l.header_bert), l.header_bert_text, wrap_option(Qt::AlignHCenter | Qt::AlignBottom));
    const bool clip_uniform = same_encoder(rows, true), bert_uniform = same_encoder(rows, false);
    for (int i = 0; i < rows.size(); ++i) {
        const Figure1Row& row = rows[i];
        painter.setPen(Qt::black);
        painter.setFont(plain);
        painter.drawText(QRectF(l.caption[i]), row.caption, wrap_option(Qt::AlignLeft | Qt::AlignVCenter));
        draw_face(painter, row.clip, l.clip_face[i], l.clip_image[i], style);
        draw_face(painter, row.bert, l.bert_face[i], l.bert_image[i], style);
        painter.setPen(Qt::black);
        painter.setFont(plain);
        painter.drawText(QRectF(l.clip_score[i]), under_face_text(row.clip, clip_uniform),
                         wrap_option(Qt::AlignHCenter | Qt::AlignTop));
        painter.drawText(QRectF(l.bert_score[i]), under_face_text(row.bert, bert_uniform),
                         wrap_option(Qt::AlignHCenter | Qt::AlignTop));
    }
    painter.restore();
}

QImage render_figure1(const QVector<Figure1Row>& rows, const Figure1Style& style, double scale) {
    const Figure1Layout l = figure1_layout(rows, style);
    const double s = std::clamp(scale, 0.25, 8.0);
    QImage image(static_cast<int>(std::ceil(l.size.width() * s)), static_cast<int>(std::ceil(l.size.height() * s)),
                 QImage::Format_RGB32);
    image.fill(Qt::white);
    QPainter painter(&image);
    painter.scale(s, s);
    paint_figure1(painter, rows, style);
    painter.end();
    return image;
}

void export_figure1(const QVector<Figure1Row>& rows, const QString& path, const Figure1Style& style,
                    double png_scale) {
    const std::string where = path.toStdString();
    if (rows.isEmpty()) throw syn::file_error(where, "Figure 1 has no rows yet (generate faces, then Add to figure)");
    const QString suffix = QFileInfo(path).suffix().toLower();
    const Figure1Layout l = figure1_layout(rows, style);
    bool ok = false;
    if (suffix == "png") {
        const QImage image = render_figure1(rows, style, png_scale);
        ok = image.save(path, "PNG");
    } else if (suffix == "svg") {
        QSvgGenerator generator;
        generator.setFileName(path);
        generator.setSize(l.size);
        generator.setViewBox(QRect(QPoint(0, 0), l.size));
        generator.setResolution(96);
        generator.setTitle("Figure 1: generated faces, CLIP-style vs BERT-style encoder");
        generator.setDescription("Synesthesia Workbench");
        QPainter painter;
        if (painter.begin(&generator)) {
            paint_figure1(painter, rows, style);
            ok = painter.end();
        }
    } else if (suffix == "pdf") {
        // One page the size of the figure at 96 dpi: the PDF looks like the PNG at scale 1.
        QPdfWriter writer(path);
        writer.setResolution(96);
        writer.setPageSize(QPageSize(QSizeF(l.size.width() * 72.0 / 96.0, l.size.height() * 72.0 / 96.0),
                                     QPageSize::Point, "Figure 1", QPageSize::ExactMatch));
        writer.setPageMargins(QMarginsF(0, 0, 0, 0));
        writer.setTitle("Figure 1: generated faces, CLIP-style vs BERT-style encoder");
        writer.setCreator("Synesthesia Workbench");
        QPainter painter;
        if (painter.begin(&writer)) {
            paint_figure1(painter, rows, style);
            ok = painter.end();
        }
    } else {
        throw syn::file_error(where, "unknown figure format '" + suffix.toStdString() + "' (use .png, .svg or .pdf)");
    }
    if (!ok || QFileInfo(path).size() == 0) throw syn::file_error(where, "could not write Figure 1");
}

}  // namespace syn::ui
