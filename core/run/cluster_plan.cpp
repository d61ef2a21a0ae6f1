// `synesthesia plan --slurm`: the study's steps and their sbatch scripts.
#include "core/run/cluster_plan.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/io/dataset_fetch.h"
#include "core/io/errors.h"
#include "core/io/output_folder.h"
#include "core/io/quote.h"
#include "core/io/strings.h"
#include "core/run/catalog.h"
#include "core/run/versions.h"

namespace syn::run {

namespace fs = std::filesystem;

namespace {

// The catalog's rows the paper reports (the study's eight encoders).
std::vector<std::string> study_encoders() {
    std::vector<std::string> ids;
    for (const auto& e : load_catalog())
        if (!e.paper_label.empty()) ids.push_back(e.id);
    return ids;
}

std::string or_default(const std::string& value, const std::string& fallback) { return value.empty() ? fallback : value; }

// The options the plan sets itself may not come again among the extra arguments.
void refuse_planned_options(const std::vector<std::string>& extra, const std::vector<std::string>& planned) {
    for (const auto& a : extra)
        for (const auto& p : planned)
            if (a == p || a.rfind(p + "=", 0) == 0)
                throw Error("plan: " + quote_excerpt(a) + " is set by the plan itself (" + join(planned, ", ") +
                            "); use the plan's own option");
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

ClusterPlan plan_table2(const StudyPlanOptions& o) {
    ClusterPlan plan;
    const std::string cxc = or_default(o.cxc, o.data_dir + "/cxc/sts_test.csv");
    const std::string captions = or_default(o.captions, o.data_dir + "/coco/annotations/captions_val2014.json");
    std::vector<std::string> models = o.models;
    if (models.empty()) models = concat({"lexical/jaccard", "lexical/tfidf"}, study_encoders());
    refuse_planned_options(o.extra, {"--out", "--shard", "--cxc", "--captions", "--models", "--model", "--device"});
    const std::vector<std::string> sts =
        concat(concat({"sts", "--cxc", cxc, "--captions", captions, "--models"}, models), {"--device", o.device});
    PlanStep embed{"embed", "the embedding phase of `sts`, every n-th batch per shard, into the shared embedding cache"};
    for (int i = 0; i < o.shards; ++i)
        embed.tasks.push_back(concat(concat(sts, o.extra), {"--shard", std::to_string(i) + "/" + std::to_string(o.shards)}));
    PlanStep tables{"tables", "Table 2 from the cached embeddings (a failed shard's texts are embedded here)"};
    tables.tasks.push_back(concat(concat(sts, o.extra), {"--out", o.results}));
    tables.after_any = {"embed"};
    plan.steps = {embed, tables};
    plan.inputs = {cxc, captions};
    return plan;
}

ClusterPlan plan_table1(const StudyPlanOptions& o) {
    ClusterPlan plan;
    const std::string glue = or_default(o.glue_data, o.data_dir + "/glue");
    const std::vector<std::string> models = o.models.empty() ? study_encoders() : o.models;
    const std::vector<std::string> tasks =
        o.tasks.empty() ? std::vector<std::string>{"cola", "sst2", "mrpc", "stsb", "qqp", "mnli", "qnli", "rte"} : o.tasks;
    const std::vector<std::string> seeds = o.seeds.empty() ? std::vector<std::string>{"42"} : o.seeds;
    refuse_planned_options(o.extra,
                           {"--out", "--data", "--models", "--model", "--task", "--seeds", "--device", "--no-tables"});
    PlanStep train{"train", "one GLUE fine-tuning run (model x task x seed), checkpointed in the results folder"};
    train.ntasks = o.train_processes;
    for (const auto& m : models)
        for (const auto& t : tasks)
            for (const auto& s : seeds)
                train.tasks.push_back(concat({"glue", "--data", glue, "--model", m, "--task", t, "--seeds", s, "--device",
                                              o.device, "--no-tables", "--out", o.results},
                                             o.extra));
    PlanStep table{"table", "Table 1: every run resumed from its finished checkpoints, then the table"};
    std::vector<std::string> all = {"glue", "--data", glue};
    for (const auto& m : models) all.insert(all.end(), {"--model", m});
    table.tasks.push_back(concat(concat(all, {"--task", join(tasks, ","), "--seeds", join(seeds, ","), "--device",
                                              o.device, "--out", o.results}),
                                 o.extra));
    table.after_ok = {"train"};
    plan.steps = {train, table};
    plan.inputs = {glue};
    return plan;
}

ClusterPlan plan_table3(const StudyPlanOptions& o) {
    ClusterPlan plan;
    const std::string generator =
        or_default(o.generator, o.data_dir + "/taming/2021-04-23T18-11-19_celebahq_transformer");
    const std::string faces = or_default(o.faces, o.data_dir + "/mm-celeba-hq");
    const std::string inception =
        o.inception_score
            ? or_default(o.inception_weights, o.data_dir + "/inception/weights-inception-2015-12-05-6726825d.pth")
            : "";
    std::vector<std::string> models = o.models.empty() ? concat(study_encoders(), {"random"}) : o.models;
    const std::vector<std::string> seeds = o.seeds.empty() ? std::vector<std::string>{"0", "1", "2"} : o.seeds;
    refuse_planned_options(o.extra, {"--out", "--generator", "--data", "--encoder", "--seed", "--device", "--split"});
    const std::string n = std::to_string(o.shards);
    PlanStep train{"train", "the text -> GPT prefix map per encoder x seed (resumable, in the results folder)"};
    PlanStep generate{"generate", "faces for the test split's first captions, every n-th sampling batch per shard"};
    PlanStep merge{"merge", "the generation shards of one encoder x seed joined into its faces folder"};
    PlanStep score{"score", "CLIP-S and Inception logits of every n-th batch of all generated faces, per shard"};
    PlanStep table{"table", "Table 3 from the score shards: means, sd over seeds, grouped means and t-tests"};
    train.ntasks = o.train_processes;
    generate.after_ok = {"train"};
    merge.after_ok = {"generate"};
    merge.needs_accelerator = false;
    score.after_ok = {"merge"};
    generate.groups = merge.groups = models.size() * seeds.size();  // one chain per encoder x seed
    table.after_ok = {"score"};
    table.needs_accelerator = false;
    std::vector<std::string> folders;
    for (const auto& m : models)
        for (const auto& s : seeds) {
            const std::string run = o.results + "/runs/" + path_safe_name(m) + "-seed" + s;
            train.tasks.push_back(concat({"train-mapping", "--generator", generator, "--data", faces, "--split", "train",
                                          "--encoder", m, "--seed", s, "--device", o.device, "--out", run + "/mapping"},
                                         o.extra));
            std::vector<std::string> parts = {"merge"};
            for (int k = 0; k < o.shards; ++k) {
                const std::string part = run + "/shards/faces-" + std::to_string(k);
                generate.tasks.push_back({"generate", "--generator", generator, "--mapping", run + "/mapping/mapping.safetensors",
                                          "--data", faces, "--split", "test", "--max-images", std::to_string(o.max_images),
                                          "--seeds", s, "--device", o.device, "--shard", std::to_string(k) + "/" + n,
                                          "--out", part});
                parts.push_back(part);
            }
            merge.tasks.push_back(concat(parts, {"--out", run + "/faces"}));
            folders.push_back(run + "/faces");
        }
    std::vector<std::string> score_args = concat(concat({"score"}, folders), {"--clip", o.clip});
    if (!inception.empty()) score_args.insert(score_args.end(), {"--inception-weights", inception});
    score_args.insert(score_args.end(), {"--data", faces, "--split", "test", "--device", o.device});
    std::vector<std::string> score_parts = {"merge"};
    for (int k = 0; k < o.shards; ++k) {
        const std::string part = o.results + "/score-shards/" + std::to_string(k);
        score.tasks.push_back(concat(score_args, {"--shard", std::to_string(k) + "/" + n, "--out", part}));
        score_parts.push_back(part);
    }
    table.tasks.push_back(concat(score_parts, {"--out", o.results + "/table3"}));
    plan.steps = {train, generate, merge, score, table};
    plan.inputs = {generator, faces};
    if (!inception.empty()) plan.inputs.push_back(inception);
    return plan;
}

// A value written into a script line must stay on its line.
void check_one_line(const std::string& what, const std::string& value) {
    if (value.find_first_of("\n\r") != std::string::npos || value.find('\0') != std::string::npos)
        throw Error("plan: " + what + " " + quote_excerpt(value) + " holds a line break");
}

std::string step_file(std::size_t index, const PlanStep& step) {
    char prefix[8];
    std::snprintf(prefix, sizeof prefix, "%02zu-", index + 1);
    return prefix + step.name + ".sbatch";
}

std::string shell_variable(const std::string& step) {
    std::string v = "job_";
    for (char c : step) v += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    return v;
}

std::string render_step(const ClusterPlan& plan, std::size_t index, const SlurmOptions& so) {
    const PlanStep& step = plan.steps[index];
    const std::size_t per_job = step.groups ? step.tasks.size() / step.groups : step.tasks.size();
    const bool array = per_job > 1;
    std::ostringstream s;
    s << "#!/bin/bash\n"
      << "# synesthesia plan " << plan.study << ", step " << index + 1 << " of " << plan.steps.size() << ": " << step.name
      << " - " << step.purpose << ".\n"
      << "# " << step.tasks.size() << (step.tasks.size() == 1 ? " task" : " tasks");
    if (step.groups) s << " in " << step.groups << " groups of " << per_job << " (submit.sh: one job per group)";
    if (!step.after_ok.empty()) s << "; after " << join(step.after_ok, ", ") << " succeeded";
    if (!step.after_any.empty()) s << "; after " << join(step.after_any, ", ") << " ended";
    s << ". Submit the whole plan with submit.sh (it sets the dependencies).\n";
    s << "#SBATCH --job-name=syn-" << plan.study << "-" << step.name << "\n";
    s << "#SBATCH --output=" << so.plan_dir << "/logs/" << step.name << (array ? "-%A_%a.out" : "-%j.out") << "\n";
    if (array) {
        s << "#SBATCH --array=0-" << per_job - 1;
        if (so.max_parallel > 0) s << "%" << so.max_parallel;
        s << "\n";
    }
    if (step.ntasks > 1) s << "#SBATCH --ntasks=" << step.ntasks << "\n";
    if (!so.partition.empty()) s << "#SBATCH --partition=" << so.partition << "\n";
    if (!so.account.empty()) s << "#SBATCH --account=" << so.account << "\n";
    if (!so.qos.empty()) s << "#SBATCH --qos=" << so.qos << "\n";
    if (!so.time.empty()) s << "#SBATCH --time=" << so.time << "\n";
    if (!so.mem.empty()) s << "#SBATCH --mem=" << so.mem << "\n";
    if (so.cpus_per_task > 0) s << "#SBATCH --cpus-per-task=" << so.cpus_per_task << "\n";
    if (so.gpus_per_task > 0 && step.needs_accelerator) s << "#SBATCH --gpus-per-task=" << so.gpus_per_task << "\n";
    for (const auto& o : so.sbatch_options) s << "#SBATCH " << o << "\n";
    s << "set -euo pipefail\n";
    for (const auto& line : so.setup) s << line << "\n";
    for (const auto& [k, v] : so.environment) s << "export " << k << "=" << shell_word(v) << "\n";
    s << "SYN=" << shell_word(so.executable) << "\n";
    if (step.groups)
        s << "task=$(( ${SYN_PLAN_GROUP:?submit.sh sets SYN_PLAN_GROUP} * " << per_job << " + ${SLURM_ARRAY_TASK_ID:-0} ))\n";
    else
        s << "task=\"${SLURM_ARRAY_TASK_ID:-0}\"\n";
    s << "case \"$task\" in\n";
    for (std::size_t t = 0; t < step.tasks.size(); ++t) {
        s << "  " << t << ") args=(";
        for (std::size_t a = 0; a < step.tasks[t].size(); ++a) s << (a ? " " : "") << shell_word(step.tasks[t][a]);
        s << ") ;;\n";
    }
    s << "  *) echo \"" << step_file(index, step) << ": no task $task in this plan\" >&2; exit 2 ;;\n"
      << "esac\n";
    if (step.ntasks > 1) {
        // torch.distributed's rendezvous: rank 0 is the job's first node; one port per job.
        s << "export MASTER_ADDR=\"${MASTER_ADDR:-$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1)}\"\n"
          << "export MASTER_PORT=\"${MASTER_PORT:-$((20000 + SLURM_JOB_ID % 20000))}\"\n"
          << "exec srun --kill-on-bad-exit=1 \"$SYN\" \"${args[@]}\"\n";
    } else {
        s << "exec \"$SYN\" \"${args[@]}\"\n";
    }
    return s.str();
}

std::string render_submit(const ClusterPlan& plan) {
    std::ostringstream s;
    s << "#!/bin/bash\n"
      << "# Submits the " << plan.study << " plan's " << plan.steps.size()
      << " steps to Slurm, each after the steps it depends on, and\n"
      << "# writes their job ids to jobs.txt. A step that fails cancels the steps waiting for its success\n"
      << "# (--kill-on-invalid-dep); see logs/ and `sacct -j <id>` (or `scontrol show job <id>`).\n"
      << "set -euo pipefail\n"
      << "cd \"$(dirname \"$0\")\"\n"
      << "submit() { local id; id=\"$(sbatch --parsable --kill-on-invalid-dep=yes \"$@\")\"; echo \"${id%%;*}\"; }\n"
      << ": > jobs.txt.partial\n";
    auto find = [&](const std::string& name) -> const PlanStep& {
        for (const auto& st : plan.steps)
            if (st.name == name) return st;
        throw Error("plan: no step " + name);
    };
    // The job id(s) a step (or its group g) waits for on step `d`: the same group's job, the matching
    // array task, or every job of the step.
    auto ids_of = [&](const PlanStep& step, std::size_t g, const std::string& d) {
        const PlanStep& dep = find(d);
        const std::string v = shell_variable(d);
        if (step.groups && dep.groups == step.groups) return "${" + v + "[" + std::to_string(g) + "]}";
        if (step.groups && !dep.groups && dep.tasks.size() == step.groups) return "${" + v + "}_" + std::to_string(g);
        if (dep.groups) return "$(IFS=:; echo \"${" + v + "[*]}\")";
        return "$" + v;
    };
    for (std::size_t i = 0; i < plan.steps.size(); ++i) {
        const PlanStep& step = plan.steps[i];
        const std::string v = shell_variable(step.name);
        for (std::size_t g = 0; g < std::max<std::size_t>(1, step.groups); ++g) {
            std::vector<std::string> deps;
            for (const auto& d : step.after_ok) deps.push_back("afterok:" + ids_of(step, g, d));
            for (const auto& d : step.after_any) deps.push_back("afterany:" + ids_of(step, g, d));
            const std::string var = step.groups ? v + "[" + std::to_string(g) + "]" : v;
            s << var << "=\"$(submit ";
            if (step.groups) s << "--export=ALL,SYN_PLAN_GROUP=" << g << " ";
            if (!deps.empty()) s << "--dependency=" << join(deps, ",") << " ";
            s << step_file(i, step) << ")\"\n"
              << "echo \"" << step.name << " ${" << var << "}\" | tee -a jobs.txt.partial\n";
        }
    }
    s << "mv jobs.txt.partial jobs.txt\n";
    return s.str();
}

std::string render_plan_json(const ClusterPlan& plan, const SlurmOptions& so) {
    nlohmann::json j = {{"study", plan.study}, {"executable", so.executable}, {"written_by", version_line()},
                        {"inputs", plan.inputs}, {"steps", nlohmann::json::array()}};
    for (std::size_t i = 0; i < plan.steps.size(); ++i) {
        const PlanStep& st = plan.steps[i];
        j["steps"].push_back({{"name", st.name}, {"file", step_file(i, st)}, {"purpose", st.purpose},
                              {"after_ok", st.after_ok}, {"after_any", st.after_any}, {"processes_per_task", st.ntasks},
                              {"groups", st.groups},
                              {"tasks", st.tasks}});
    }
    return j.dump(1) + "\n";
}

}  // namespace

ClusterPlan plan_study(const StudyPlanOptions& o) {
    if (o.shards < 1 || o.shards > 10000) throw Error("plan: --shards must be 1..10000, not " + std::to_string(o.shards));
    if (o.train_processes < 1 || o.train_processes > 4096)
        throw Error("plan: --train-processes must be 1..4096, not " + std::to_string(o.train_processes));
    if (o.max_images < 0) throw Error("plan: --max-images must be >= 0");
    if (o.results.empty() || !fs::path(o.results).is_absolute()) throw Error("plan: the results folder must be absolute");
    for (const auto& group : {o.models, o.tasks, o.seeds})
        for (const auto& v : group)
            if (v.empty()) throw Error("plan: an empty model, task or seed was given");
    ClusterPlan plan;
    if (o.study == "table2") plan = plan_table2(o);
    else if (o.study == "table1") plan = plan_table1(o);
    else if (o.study == "table3") plan = plan_table3(o);
    else throw Error("plan: unknown study " + quote_excerpt(o.study) + " (table1, table2 or table3)");
    plan.study = o.study;
    for (const auto& [name, args] : o.step_extra) {
        PlanStep* target = nullptr;
        std::string names;
        for (auto& st : plan.steps) {
            if (st.name == name) target = &st;
            names += (names.empty() ? "" : ", ") + st.name;
        }
        if (!target)
            throw Error("plan: --step-args names the step " + quote_excerpt(name) + "; " + o.study + " has " + names);
        for (auto& task : target->tasks) {
            std::vector<std::string> planned;
            for (const auto& a : task)
                if (a.rfind("--", 0) == 0) planned.push_back(a);
            refuse_planned_options(args, planned);
            task.insert(task.end(), args.begin(), args.end());
        }
    }
    return plan;
}

std::vector<std::pair<std::string, std::string>> render_slurm_plan(const ClusterPlan& plan, const SlurmOptions& so) {
    if (!fs::path(so.executable).is_absolute()) throw Error("plan: the executable path must be absolute");
    if (!fs::path(so.plan_dir).is_absolute()) throw Error("plan: the plan folder must be absolute");
    check_one_line("the executable", so.executable);
    check_one_line("the plan folder", so.plan_dir);
    if (shell_word(so.plan_dir) != so.plan_dir)  // #SBATCH lines are not shell lines: no quoting there
        throw Error("plan: the plan folder " + quote_excerpt(so.plan_dir) +
                    " holds a space or a shell character, which an #SBATCH --output line cannot carry");
    for (const auto* v : {&so.partition, &so.account, &so.qos, &so.time, &so.mem}) {
        check_one_line("a Slurm option", *v);
        if (v->find_first_of(" \t'\"\\$`") != std::string::npos)
            throw Error("plan: the Slurm option value " + quote_excerpt(*v) + " holds a space or a shell character");
    }
    for (const auto& o : so.sbatch_options) {
        check_one_line("--sbatch", o);
        if (o.rfind("--", 0) != 0 && !(o.size() >= 2 && o[0] == '-' && o[1] != '-'))
            throw Error("plan: --sbatch " + quote_excerpt(o) + " is not an sbatch option (it starts with - or --)");
    }
    for (const auto& line : so.setup) check_one_line("--setup", line);
    for (const auto& [k, v] : so.environment) {
        if (k.empty() || std::isdigit(static_cast<unsigned char>(k[0])) ||
            k.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos)
            throw Error("plan: " + quote_excerpt(k) + " is not an environment variable name");
        check_one_line("the value of " + k, v);
    }
    std::set<std::string> names;
    for (const auto& step : plan.steps) {
        if (step.tasks.empty()) throw Error("plan: step " + step.name + " has no task");
        if (step.groups && step.tasks.size() % step.groups != 0)
            throw Error("plan: step " + step.name + " has " + std::to_string(step.tasks.size()) + " tasks for " +
                        std::to_string(step.groups) + " groups");
        for (const auto& d : step.after_ok) if (!names.count(d)) throw Error("plan: step " + step.name + " waits for a later step " + d);
        for (const auto& d : step.after_any) if (!names.count(d)) throw Error("plan: step " + step.name + " waits for a later step " + d);
        for (const auto& t : step.tasks)
            for (const auto& a : t) check_one_line("an argument", a);
        names.insert(step.name);
    }
    std::vector<std::pair<std::string, std::string>> files;
    for (std::size_t i = 0; i < plan.steps.size(); ++i) files.emplace_back(step_file(i, plan.steps[i]), render_step(plan, i, so));
    files.emplace_back("submit.sh", render_submit(plan));
    files.emplace_back("plan.json", render_plan_json(plan, so));
    return files;
}

void write_slurm_plan(const ClusterPlan& plan, const SlurmOptions& so, const std::string& out_dir) {
    const auto files = render_slurm_plan(plan, so);
    StagedOutputFolder out(out_dir);
    fs::create_directories(fs::path(out.path()) / "logs");
    for (const auto& [name, text] : files) {
        const fs::path p = fs::path(out.path()) / name;
        std::ofstream f(p, std::ios::binary);
        f << text;
        f.close();
        if (!f) throw file_error(p.string(), "cannot write");
        const std::string ext = fs::path(name).extension().string();
        if (ext == ".sh" || ext == ".sbatch")
            fs::permissions(p, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                            fs::perm_options::add);
    }
    out.commit();
}

}  // namespace syn::run
