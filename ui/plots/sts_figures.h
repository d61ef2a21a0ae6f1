#pragma once
// The STS job's figures (the FigureWriter given to syn::run::write_sts_outputs): per encoder, the
// scatter of its score against STS-L coloured by STS-V, and the bar chart of the four Table 2
// correlations with bootstrap CIs, each as PNG, SVG and PDF.
//
// Rendering uses QCustomPlot offscreen and therefore needs a QGuiApplication (or QApplication) to
// exist in the process (QT_QPA_PLATFORM=offscreen is enough on a machine without a display); without
// one it throws syn::Error instead of crashing. The CLI creates one when built with Qt.
#include <string>
#include <vector>

#include "core/run/jobs/sts_job.h"
#include "core/run/reports/sts_report.h"

namespace syn::ui {

// Returns the paths written: scatter_<encoder>.{png,svg,pdf} and correlations.{png,svg,pdf}.
std::vector<std::string> write_sts_figures(const syn::run::StsResult& result, const std::string& out_dir);

// "CLIP ViT-B/32" -> "clip-vit-b-32": safe in file names.
std::string figure_slug(const std::string& label);

}  // namespace syn::ui
