#pragma once
// The models the playground offers, read from the run store: each run's best
// and newest checkpoint and every compressed file it knows (files that exist).

#include <QList>
#include <QString>

#include <utility>

#include "playground_pane.h"
#include "store/run_store.h"

namespace itera::ui {

/// Throws itera::Error when the store cannot be read.
QList<ModelChoice> storedModelChoices(RunStore& store);

/// The playground's default pair for run `runId`: its best model, and beside it a
/// compressed version of it among `choices` (f16 first; the best model again when
/// there is none). Empty strings when the run has no best model.
std::pair<QString, QString> defaultModelPair(RunStore& store, qint64 runId,
                                             const QList<ModelChoice>& choices);

}  // namespace itera::ui
