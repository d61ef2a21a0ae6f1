#include "ui/theme.h"

#include <QApplication>
#include <QStyle>
#include <QStyleFactory>

// Q_INIT_RESOURCE must be used outside any namespace.
static void init_resources_outside_namespace() { Q_INIT_RESOURCE(resources); }

namespace syn::ui {

void init_resources() { init_resources_outside_namespace(); }

QPalette light_palette() {
    QPalette p = QStyleFactory::create("Fusion")->standardPalette();
    p.setColor(QPalette::Highlight, QColor(0x2f, 0x6f, 0xb5));
    return p;
}

QPalette dark_palette() {
    QPalette p;
    const QColor window(0x2b, 0x2b, 0x2b), base(0x1e, 0x1e, 0x1e), text(0xdd, 0xdd, 0xdd), disabled(0x80, 0x80, 0x80);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, QColor(0x26, 0x26, 0x26));
    p.setColor(QPalette::ToolTipBase, QColor(0x33, 0x33, 0x33));
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, disabled);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, QColor(0x35, 0x35, 0x35));
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, Qt::red);
    p.setColor(QPalette::Link, QColor(0x6a, 0xa8, 0xf0));
    p.setColor(QPalette::Highlight, QColor(0x3d, 0x7e, 0xc8));
    p.setColor(QPalette::HighlightedText, Qt::white);
    for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, disabled);
    return p;
}

void apply_theme(bool dark) {
    QApplication::setStyle(QStyleFactory::create("Fusion"));
    QApplication::setPalette(dark ? dark_palette() : light_palette());
}

}  // namespace syn::ui
