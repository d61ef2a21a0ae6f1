#pragma once
// `synesthesia plan --slurm`: the study's runs as Slurm batch scripts, for a cluster's own scheduler
// (no scheduler of ours). A plan is a list of steps; a step is one sbatch script whose array tasks
// are the commands to run (one task: no array) and which waits for earlier steps (afterok / afterany).
// The sharded steps use the CLI's own `--shard i/n` and `synesthesia merge`, so the final step's
// numbers are those of the unsharded run. The steps of each study:
//   table2: embed (array: `sts --shard i/n` into the shared embedding cache) -> tables (`sts --out`,
//           after any end of the shards: a failed shard's texts are embedded there, and a model that
//           cannot be evaluated is a failed row, as in one `sts` run);
//   table1: train (array: one `glue` run per model x task x seed, resumable checkpoints in the shared
//           results folder) -> table (`glue` over all of them: resumes the finished runs and writes
//           Table 1);
//   table3: train (array: `train-mapping` per encoder x seed) -> generate (array: `generate --shard
//           i/n` per encoder x seed x shard) -> merge (array: `merge` per encoder x seed) -> score
//           (array: `score --shard i/n` over all faces folders) -> table (`merge` of the score shards).
// Training steps with `ntasks` > 1 run under srun with MASTER_ADDR / MASTER_PORT set, one process
// per task (torch.distributed's environment; the CLI reads srun's SLURM_PROCID / SLURM_STEP_NUM_TASKS).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace syn::run {

struct PlanStep {
    std::string name;                             // job name part and file name: "embed", "tables"
    std::string purpose;                          // one line for the script's header
    std::vector<std::vector<std::string>> tasks;  // the arguments of `synesthesia` per array task
    std::vector<std::string> after_ok;            // earlier steps that must all have succeeded
    std::vector<std::string> after_any;           // earlier steps that must have ended, however
    int ntasks = 1;                               // processes per array task (srun), for distributed training
    bool needs_accelerator = true;                // false: merge steps (no --gpus-per-task)
    // > 0: the tasks are that many groups of equal size (table3: one group per encoder x seed), and
    // the step is submitted once per group, each after only its own group of the steps it waits for
    // (or the matching task of an array with one task per group). So one encoder's failure stops its
    // own chain, not the other encoders' generation.
    std::size_t groups = 0;
};

struct ClusterPlan {
    std::string study;
    std::vector<PlanStep> steps;
    std::vector<std::string> inputs;  // the files and folders the steps read (the command warns when absent)
};

struct StudyPlanOptions {
    std::string study;                 // "table1", "table2", "table3"
    std::string results;               // the folder the final step writes (absolute)
    std::string data_dir;              // where `synesthesia fetch` put the data (absolute)
    std::vector<std::string> models;   // empty: the study's (Table 2 adds the lexical baselines, Table 3 random)
    std::vector<std::string> tasks;    // table1: GLUE tasks; empty: the eight of Table 1
    std::vector<std::string> seeds;    // table1 default 42, table3 default 0, 1, 2
    int shards = 4;                    // table2 / table3: shards of the embedding / generation
    int train_processes = 1;           // table1 / table3: distributed processes per training run
    std::string device = "auto";
    int64_t max_images = 0;            // table3: test faces to generate for (0 = all)
    std::vector<std::string> extra;    // appended to the study's main command (sts, glue, train-mapping)
    // More arguments for every task of one step, by step name ("generate" -> {"--batch", "4"}); an
    // option the plan already sets in that step's tasks, or an unknown step, is refused by name.
    std::vector<std::pair<std::string, std::vector<std::string>>> step_extra;
    // Inputs; empty: where `synesthesia fetch` puts them under data_dir.
    std::string cxc, captions;                          // table2
    std::string glue_data;                              // table1
    std::string generator, faces, inception_weights;    // table3
    std::string clip = "openai/clip-vit-base-patch16";  // table3: CLIP-S scorer
    bool inception_score = true;                        // table3: false = no IS column (no weights)
};

// The steps of a study; syn::Error for an unknown study, bad counts or arguments the plan sets itself.
ClusterPlan plan_study(const StudyPlanOptions& options);

struct SlurmOptions {
    std::string executable;  // absolute path of `synesthesia` on the cluster's shared file system
    std::string plan_dir;    // absolute: the scripts' folder once written (the logs go to <plan_dir>/logs)
    std::string partition, account, qos, time, mem;
    int cpus_per_task = 0;   // 0: the cluster's default
    int gpus_per_task = 0;   // 0: none asked for
    int max_parallel = 0;    // array throttle ("%K"); 0: none
    std::vector<std::string> sbatch_options;                   // more "#SBATCH" options, as given
    std::vector<std::string> setup;                            // shell lines run first (module load ...)
    std::vector<std::pair<std::string, std::string>> environment;  // exported in every script
};

// File name -> contents: "NN-<step>.sbatch" per step, "submit.sh" (submits them in order with their
// dependencies and writes jobs.txt) and "plan.json" (the steps as data).
std::vector<std::pair<std::string, std::string>> render_slurm_plan(const ClusterPlan& plan, const SlurmOptions& options);

// render_slurm_plan into `out_dir`, all files together or none (a staged output folder), scripts
// executable, with an empty logs/ folder.
void write_slurm_plan(const ClusterPlan& plan, const SlurmOptions& options, const std::string& out_dir);

}  // namespace syn::run
