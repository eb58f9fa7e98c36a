#pragma once
// Legends that never cover data: a plot's legend moved out of its axis rect
// into a row under it, entries laid out side by side.

class QCustomPlot;

namespace itera::ui {

/// Moves `plot`'s legend below its axis rect (call once, after the plot's
/// own layout is built); `perRow` entries per row.
void placeLegendBelow(QCustomPlot* plot, int perRow = 5);

}  // namespace itera::ui
