#include "workflows/distill.h"

#include "format/safetensors.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/read_file.h"
#include "util/threads.h"
#include "workflows/model_source.h"
#include "workflows/run_launch.h"
#include "workflows/store_recorder.h"

namespace itera {

DistillResult distill_and_measure(const Workspace& ws, const std::filesystem::path& teacher,
                                  const DistillOptions& o, const MeasureRequest& m) {
    auto say = [&](const std::string& phase, double fraction) {
        if (m.progress) m.progress(phase, fraction);
    };
    const auto file = SafetensorsFile::read(teacher);  // names a missing or corrupt file
    if (file.meta("quantization") != "none")
        throw Error(teacher.string() + " is a quantized model; distil from an FP32 teacher");
    if (!(o.alpha >= 0 && o.alpha <= 1))
        throw Error("--alpha must be in [0, 1], got " + number_text(o.alpha));
    const auto teacher_abs = std::filesystem::absolute(teacher).string();

    TrainSettings settings = o.train;
    settings.preset = o.student_preset;
    settings.teacher = teacher_abs;
    settings.distill_alpha = o.alpha;
    settings.distill_temperature = o.temperature;
    settings.init_from.clear();
    settings.model = ModelConfig::preset(o.student_preset, 256);  // sized to the tokenizer below
    settings.validate();

    RunStore store(ws.db_path);
    const auto spec = source_data_spec(store, file.metadata());
    CacheBuildOptions cache;
    cache.threads = settings.threads > 0 ? settings.threads : default_thread_count();
    cache.cancel = m.cancel;
    say("preparing " + spec.request.corpus, -1);

    auto train = [&](const std::string& which, TrainSettings s,
                     const std::string& name) -> DistilledModel {
        auto launched = launch_new_run(ws, store, name, s, false, spec, cache);
        DistilledModel d;
        d.run_id = launched.id;
        std::function<void(const TrainProgress&)> progress;
        if (o.progress) progress = [&](const TrainProgress& p) { o.progress(which, p); };
        d.train = train_stored_run(store, launched.id, launched.settings, launched.ready.data,
                                   o.control, progress);
        return d;
    };
    auto measure = [&](DistilledModel& d, const std::string& method, const TrainSettings& s,
                       std::int64_t other_run) {
        if (d.train.status != RunStatus::Finished || d.train.latest_checkpoint.empty()) return;
        CompressionReport base;
        base.method = method;
        DistillationReport dr;
        dr.run_id = d.run_id;
        dr.student_preset = o.student_preset;
        dr.teacher = !s.teacher.empty();
        dr.alpha = s.teacher.empty() ? 0.0 : o.alpha;
        dr.temperature = o.temperature;
        dr.steps = d.train.steps;
        dr.tokens = d.train.tokens;
        if (other_run) (s.teacher.empty() ? dr.student_run_id : dr.baseline_run_id) = other_run;
        base.distillation = dr;
        // A named copy of the last step's weights in the run's folder, so
        // reports and the workbench can tell the two students apart.
        const auto named = store.run_dir(d.run_id) /
                           ((s.teacher.empty() ? "student-" : "distilled-") + o.student_preset +
                            "-run" + std::to_string(d.run_id) + ".safetensors");
        write_file_atomically(named, read_file(d.train.latest_checkpoint));
        d.model = named;
        d.measured = measure_and_record(ws, teacher, named, base, m);
    };

    DistillResult r;
    r.student = train("student", settings,
                      o.student_preset + " distilled from " + teacher.filename().string());
    if (o.baseline && r.student.train.status == RunStatus::Finished) {
        // Same seed, same planned steps, no teacher: the same token budget.
        auto plain = settings;
        plain.teacher.clear();
        plain.minutes = 0;
        plain.steps = r.student.train.steps;
        r.baseline = train("baseline", plain, o.student_preset + " without a teacher (baseline)");
    }
    // Each report names the other run, so a report can set them side by side.
    measure(r.student, "distill", settings, r.baseline ? r.baseline->run_id : 0);
    if (r.baseline) {
        auto plain = settings;
        plain.teacher.clear();
        measure(*r.baseline, "distill-baseline", plain, r.student.run_id);
    }
    return r;
}

}  // namespace itera
