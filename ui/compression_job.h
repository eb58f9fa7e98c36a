#pragma once
// What the compression worker and the page share (private to ui/): the
// progress of a batch of compressions, written by the worker, polled by the
// page every 100 ms; cancel is set by the page and read by the core.

#include <QString>

#include <atomic>
#include <mutex>

#include "compression_page.h"

namespace itera::ui {

struct CompressionPage::Job {
    std::atomic<bool> cancel{false};
    std::mutex mutex;  ///< guards what follows
    QString phase;
    double fraction = -1;
    QString error;
    int done = 0;
    bool finished = false;
};

}  // namespace itera::ui
