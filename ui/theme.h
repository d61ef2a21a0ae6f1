#pragma once
// Light and dark palettes (Fusion style, so that both look the same on every desktop).
#include <QPalette>

namespace syn::ui {

QPalette light_palette();
QPalette dark_palette();
// Sets the application's style to Fusion and its palette to the light or dark one.
void apply_theme(bool dark);
// Registers the compiled-in resources (icons, demo files): syn_ui is a static library, so the
// linker would otherwise drop them. Safe to call more than once.
void init_resources();

}  // namespace syn::ui
