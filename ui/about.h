#pragma once
// Help > About: the workbench's version (CMake's PROJECT_VERSION), its licence, the study it
// reproduces and where to read more. Shared by the About box and the application's --version.
#include <QString>

namespace syn::ui {

// CMake's PROJECT_VERSION, passed as the compile definition SYN_VERSION.
QString workbenchVersion();

// The installed README (<prefix>/share/doc/synesthesia/README.md beside the running executable's
// prefix) when there is one, else the README of the source tree this binary was built from.
QString readmePath();

// Rich text for QMessageBox::about: version, device, licence (GPL-3.0-or-later), the study
// (Chen et al., Findings of ACL 2023) with links, and the README.
QString aboutText(const QString& device);

}  // namespace syn::ui
