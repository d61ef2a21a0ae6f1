#!/usr/bin/env bash
# `synesthesia plan --slurm` on a real Slurm: this test starts munge, slurmctld and slurmd on this
# machine (one node, its own configuration, ports and state under the work folder), submits the
# Table 2 plan (3 embedding shards as a job array, then the tables step after them) with the tiny
# fixture models, and checks that the tables equal those of one unsharded `sts` run byte for byte,
# and that the shards did the embedding (the tables step computed nothing). Then a plan whose first
# step fails: the step waiting for its success is cancelled, never run.
# Usage: slurm_end_to_end.sh <synesthesia binary> <work dir> <default shared dir>
# Needs root (slurmd starts jobs as their user) and the Debian packages slurm-wlm and munge
# (scripts/install-deps.sh); skipped (77) without them.
set -euo pipefail
BIN="$(readlink -f "$1")"
WORK="$2"
SHARED="${SYNESTHESIA_SHARED:-$3}"
skip() { echo "$* (test skipped)"; exit 77; }
[ -d "$SHARED/data" ] || skip "shared reference folder '$SHARED' is absent: set SYNESTHESIA_SHARED"
for tool in munged slurmctld slurmd sbatch squeue scontrol sinfo; do
  command -v "$tool" > /dev/null || [ -x "/usr/sbin/$tool" ] || skip "$tool is not installed (apt-get install slurm-wlm munge)"
done
[ "$(id -u)" = 0 ] || skip "a local slurmd needs root"
export PATH="$PATH:/usr/sbin"
FIX="${SYNESTHESIA_FIXTURES:-$SHARED/fixtures}"
rm -rf "$WORK"
mkdir -p "$WORK"
WORK="$(readlink -f "$WORK")"
fail() { echo "FAIL: $*" >&2; for f in "$WORK"/slurm/log/*.log; do echo "--- $f"; tail -20 "$f"; done >&2; exit 1; }

# --- a one-node cluster -----------------------------------------------------------------------
S="$WORK/slurm"
mkdir -p "$S/munge" "$S/state" "$S/spool" "$S/log"
chmod 700 "$S/munge"
head -c 1024 /dev/urandom > "$S/munge/munge.key"
chmod 400 "$S/munge/munge.key"
read -r CTLD_PORT SLURMD_PORT < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
NODE="$(hostname -s)"
MEM_MB="$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)"
CPUS="$(nproc)"
cat > "$S/slurm.conf" <<CONF
ClusterName=syntest
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$S/munge/munge.socket
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SwitchType=switch/none
MinJobAge=600
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=syntest Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$S/slurm.conf"
cleanup() {
  scontrol shutdown > /dev/null 2>&1 || true
  for pid_file in "$S/slurmd.pid" "$S/slurmctld.pid" "$S/munge/munged.pid"; do
    [ -s "$pid_file" ] && kill "$(cat "$pid_file")" 2> /dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 143' TERM  # ctest's timeout: the daemons are stopped too (through the EXIT trap)
trap 'exit 130' INT
munged --key-file="$S/munge/munge.key" --socket="$S/munge/munge.socket" --pid-file="$S/munge/munged.pid" \
  --log-file="$S/log/munged.log" --seed-file="$S/munge/munged.seed" --force || fail "munged did not start"
slurmctld -f "$S/slurm.conf" || fail "slurmctld did not start"
slurmd -f "$S/slurm.conf" || fail "slurmd did not start"
for _ in $(seq 60); do
  [ "$(sinfo -h -o %T 2> /dev/null)" = idle ] && break
  sleep 0.5
done
[ "$(sinfo -h -o %T)" = idle ] || fail "the node is not idle: $(sinfo)"

# Waits until the plan's jobs (jobs.txt) have left the queue; at most $2 seconds.
wait_for_plan() {
  local ids deadline=$((SECONDS + $2))
  ids="$(awk '{print $2}' "$1/jobs.txt" | paste -sd,)"
  while [ -n "$(squeue -h -j "$ids" 2> /dev/null)" ]; do
    [ $SECONDS -lt $deadline ] || { squeue; fail "the plan's jobs did not finish in $2 s"; }
    sleep 1
  done
}
# The state of each job of a step (array tasks: one line each).
states() { scontrol show job "$1" | awk -F'[= ]' '/JobState=/ {for (i = 1; i <= NF; i++) if ($i == "JobState") print $(i + 1)}'; }

# --- Table 2 in 3 shards ----------------------------------------------------------------------
CXC="$SHARED/data/cxc/sts_test.csv"
CAPTIONS="$SHARED/data/coco/captions_karpathy_test.json"
MODELS=(lexical/tfidf "$FIX/models/tiny-bert" "$FIX/models/tiny-clip")
EXTRA=(--pooling mean --max-pairs 200 --bootstrap 100 --token-budget 96 --dtype float32)
"$BIN" plan --slurm --study table2 --shards 3 --out "$WORK/plan2" --results "$WORK/results2" \
  --cxc "$CXC" --captions "$CAPTIONS" --models "${MODELS[@]}" --device cpu --cpus 1 --time 00:10:00 \
  --cache-dir "$WORK/cluster-cache" -- "${EXTRA[@]}" 2> "$WORK/plan2.stderr" \
  || { cat "$WORK/plan2.stderr"; fail "plan failed"; }
[ -x "$WORK/plan2/submit.sh" ] || fail "no submit.sh"
"$WORK/plan2/submit.sh" > "$WORK/submit2.stdout" || fail "submit.sh failed: $(cat "$WORK/submit2.stdout")"
wait_for_plan "$WORK/plan2" 400
EMBED_JOB="$(awk '$1 == "embed" {print $2}' "$WORK/plan2/jobs.txt")"
TABLES_JOB="$(awk '$1 == "tables" {print $2}' "$WORK/plan2/jobs.txt")"
[ "$(states "$EMBED_JOB" | sort | uniq -c | awk '{print $1, $2}')" = "3 COMPLETED" ] \
  || fail "embedding shards: $(states "$EMBED_JOB" | paste -sd' ')"
[ "$(states "$TABLES_JOB")" = COMPLETED ] || fail "tables step: $(states "$TABLES_JOB"); $(cat "$WORK"/plan2/logs/tables-*.out)"
for i in 0 1 2; do
  log="$(ls "$WORK"/plan2/logs/embed-*_$i.out)"
  grep -q "tiny-bert: [1-9][0-9]* computed" "$log" || fail "shard $i computed nothing for tiny-bert: $(cat "$log")"
done
python3 - "$WORK/results2/results.json" <<'PY' || fail "the tables step embedded texts itself"
import json, sys
encoders = [e for e in json.load(open(sys.argv[1]))["encoders"] if e["family"] != "lexical"]
assert len(encoders) == 2 and all(e["computed_texts"] == 0 and e["cached_texts"] > 0 for e in encoders), encoders
PY

# One unsharded run, its own cache: the same tables, byte for byte.
SYN_CACHE_DIR="$WORK/reference-cache" "$BIN" sts --cxc "$CXC" --captions "$CAPTIONS" --models "${MODELS[@]}" \
  --device cpu "${EXTRA[@]}" --out "$WORK/reference2" > /dev/null 2> "$WORK/reference2.stderr" \
  || { cat "$WORK/reference2.stderr"; fail "the unsharded sts failed"; }
for f in table.md table.tex pairs.csv; do
  cmp "$WORK/reference2/$f" "$WORK/results2/$f" || fail "$f of the Slurm plan differs from the unsharded run"
done

# --- a failing step cancels what waits for its success ---------------------------------------
# Table 1 with a GLUE folder that does not exist: every training task fails, the table step never runs.
"$BIN" plan --slurm --study table1 --out "$WORK/plan1" --results "$WORK/results1" --glue-data "$WORK/no-glue" \
  --models "$FIX/models/tiny-bert" --tasks rte,mrpc --device cpu --cpus 1 2> /dev/null || fail "plan table1 failed"
"$WORK/plan1/submit.sh" > /dev/null || fail "submit.sh (table1) failed"
wait_for_plan "$WORK/plan1" 200
TRAIN_JOB="$(awk '$1 == "train" {print $2}' "$WORK/plan1/jobs.txt")"
TABLE_JOB="$(awk '$1 == "table" {print $2}' "$WORK/plan1/jobs.txt")"
[ "$(states "$TRAIN_JOB" | sort -u)" = FAILED ] || fail "training tasks: $(states "$TRAIN_JOB" | paste -sd' ')"
[ "$(states "$TABLE_JOB")" = CANCELLED ] || fail "the table step after failed training: $(states "$TABLE_JOB")"
grep -q "no-glue" "$WORK"/plan1/logs/train-*_0.out || fail "the training log does not name the missing folder"
[ ! -e "$WORK/results1/glue_table.md" ] || fail "a table was written after failed training"
# --- Table 1 with distributed training under srun --------------------------------------------
# Two seeds as two array tasks, each trained by 2 processes (srun, SLURM_PROCID / SLURM_NTASKS, Gloo)
# with tiny-bert copied without dropout, so 2 processes must give 1 process's losses (same global
# batch); the table step resumes the finished runs and writes Table 1, as one unsharded run would.
source "$(dirname "$0")/tiny_glue_data.sh"
write_tiny_sst2 "$WORK/glue"
mkdir -p "$WORK/tiny-bert-nodropout"
for f in "$FIX"/models/tiny-bert/*; do ln -s "$f" "$WORK/tiny-bert-nodropout/$(basename "$f")"; done
rm "$WORK/tiny-bert-nodropout/config.json"
sed -e 's/"hidden_dropout_prob": [0-9.]*/"hidden_dropout_prob": 0.0/' \
    -e 's/"attention_probs_dropout_prob": [0-9.]*/"attention_probs_dropout_prob": 0.0/' \
    "$FIX/models/tiny-bert/config.json" > "$WORK/tiny-bert-nodropout/config.json"
GLUE_ARGS=(--epochs 2 --batch-size 16 --lr 1e-2 --max-length 32)
RENDEZVOUS=()
getent hosts "$NODE" > /dev/null || RENDEZVOUS=(--env MASTER_ADDR=127.0.0.1)
"$BIN" plan --slurm --study table1 --out "$WORK/plan-ddp" --results "$WORK/results-ddp" --glue-data "$WORK/glue" \
  --models "$WORK/tiny-bert-nodropout" --tasks sst2 --seeds 42,43 --train-processes 2 --device cpu --cpus 1 \
  "${RENDEZVOUS[@]}" -- "${GLUE_ARGS[@]}" 2> /dev/null || fail "plan table1 (distributed) failed"
grep -q "^#SBATCH --ntasks=2$" "$WORK/plan-ddp/01-train.sbatch" || fail "the training step does not ask for 2 tasks"
"$WORK/plan-ddp/submit.sh" > /dev/null || fail "submit.sh (distributed) failed"
wait_for_plan "$WORK/plan-ddp" 400
TRAIN_JOB="$(awk '$1 == "train" {print $2}' "$WORK/plan-ddp/jobs.txt")"
TABLE_JOB="$(awk '$1 == "table" {print $2}' "$WORK/plan-ddp/jobs.txt")"
[ "$(states "$TRAIN_JOB" | sort | uniq -c | awk '{print $1, $2}')" = "2 COMPLETED" ] \
  || fail "distributed training: $(states "$TRAIN_JOB" | paste -sd' '); $(cat "$WORK"/plan-ddp/logs/train-*.out)"
[ "$(states "$TABLE_JOB")" = COMPLETED ] || fail "the GLUE table step: $(states "$TABLE_JOB")"
grep -q "data-parallel: 2 processes (gloo, from slurm)" "$WORK"/plan-ddp/logs/train-*_0.out || fail "the training log does not say it ran in 2 processes: $(cat "$WORK"/plan-ddp/logs/train-*_0.out)"
"$BIN" glue --data "$WORK/glue" --model "$WORK/tiny-bert-nodropout" --task sst2 --seeds 42,43 --device cpu \
  "${GLUE_ARGS[@]}" --out "$WORK/reference-glue" > /dev/null 2> "$WORK/reference-glue.stderr" \
  || { cat "$WORK/reference-glue.stderr"; fail "the one-process glue run failed"; }
python3 - "$WORK/reference-glue/glue_manifest.json" "$WORK/results-ddp/glue_manifest.json" <<'PY' \
  || fail "the 2-process Slurm runs differ from one process"
import json, sys
def runs(path):
    (task,) = json.load(open(path))["models"][0]["tasks"]
    return {r["seed"]: r for r in task["runs"]}
one, two = runs(sys.argv[1]), runs(sys.argv[2])
assert sorted(one) == sorted(two) == [42, 43], (sorted(one), sorted(two))
for seed in one:
    a = [e["train_loss"] for e in one[seed]["epochs"]]
    b = [e["train_loss"] for e in two[seed]["epochs"]]
    assert len(a) == len(b) == 2, (a, b)
    for x, y in zip(a, b):
        assert abs(x - y) <= 1e-5 * max(1.0, abs(x)), (seed, a, b)
    assert one[seed]["best_metrics"] == two[seed]["best_metrics"], (one[seed]["best_metrics"], two[seed]["best_metrics"])
    assert (one[seed]["processes"], two[seed]["processes"]) == (1, 2), "processes recorded per run"
print("epoch losses of 1 and 2 processes agree within 1e-5; metrics equal")
PY

# --- Table 3: train, generate in 2 shards, merge, score in 2 shards, table ------------------------
# Tiny taming + tiny-bert and the random baseline on a Multi-Modal CelebA-HQ layout written here
# (10 faces: 6 train, 4 test); the plan's faces and tables must be those of the unsharded commands.
mkdir -p "$WORK/faces/images"
{ echo 10; echo "Male Smiling Blond_Hair Eyeglasses Wearing_Hat"
  for i in $(seq 0 9); do echo "$i.jpg $(( i % 2 ? 1 : -1 )) $(( i % 3 ? 1 : -1 )) $(( i % 4 ? -1 : 1 )) -1 -1"; done
} > "$WORK/attributes.txt"
"$BIN" captions-from-attributes --attributes "$WORK/attributes.txt" --out "$WORK/faces" --per-image 2 --seed 1 \
  > /dev/null 2>&1 || fail "captions-from-attributes"
for i in $(seq 0 9); do cp "$FIX/models/tiny-clip/image$(( i % 2 )).png" "$WORK/faces/images/$i.png"; done
seq 0 5 > "$WORK/faces/train.txt"
seq 6 9 > "$WORK/faces/test.txt"
T3_MODELS=("$FIX/models/tiny-bert" random)
TRAIN_ARGS=(--batch-size 3 --epochs 2 --lr 0.005)
"$BIN" plan --slurm --study table3 --out "$WORK/plan3" --results "$WORK/results3" --generator "$FIX/models/tiny-taming" \
  --faces "$WORK/faces" --clip "$FIX/models/tiny-clip" --no-inception-score --models "$(IFS=,; echo "${T3_MODELS[*]}")" \
  --seeds 0 --shards 2 --device cpu --cpus 1 --step-args generate="--batch 1 --top-k 20" --step-args score="--batch 2" \
  -- "${TRAIN_ARGS[@]}" 2> "$WORK/plan3.stderr" || { cat "$WORK/plan3.stderr"; fail "plan table3 failed"; }
"$WORK/plan3/submit.sh" > /dev/null || fail "submit.sh (table3) failed"
wait_for_plan "$WORK/plan3" 400
while read -r name id; do
  [ "$(states "$id" | sort -u)" = COMPLETED ] || fail "table3 step $name: $(states "$id" | paste -sd' ')"
done < "$WORK/plan3/jobs.txt"
# The same study by hand, unsharded, in one process.
for m in "${T3_MODELS[@]}"; do
  name="$(echo "$m" | tr '/:' '__')-seed0"
  "$BIN" train-mapping --generator "$FIX/models/tiny-taming" --data "$WORK/faces" --split train --encoder "$m" --seed 0 \
    --device cpu "${TRAIN_ARGS[@]}" --out "$WORK/reference3/$name/mapping" > /dev/null 2>&1 || fail "reference train-mapping $m"
  "$BIN" generate --generator "$FIX/models/tiny-taming" --mapping "$WORK/reference3/$name/mapping/mapping.safetensors" \
    --data "$WORK/faces" --split test --max-images 0 --seeds 0 --device cpu --batch 1 --top-k 20 \
    --out "$WORK/reference3/$name/faces" > /dev/null 2>&1 || fail "reference generate $m"
  [ "$(ls "$WORK/reference3/$name/faces/"*.png | wc -l)" = 4 ] || fail "reference: expected 4 faces for $m"
  for f in "$WORK/reference3/$name/faces/"*.png; do
    cmp "$f" "$WORK/results3/runs/$name/faces/$(basename "$f")" || fail "face $(basename "$f") of $m differs from the unsharded run"
  done
done
"$BIN" score "$WORK/reference3/"*/faces --clip "$FIX/models/tiny-clip" --data "$WORK/faces" --split test --device cpu \
  --batch 2 --out "$WORK/reference3/table3" > /dev/null 2>&1 || fail "reference score"
for f in table3.md table3.tex table3.csv; do
  cmp "$WORK/reference3/table3/$f" "$WORK/results3/table3/$f" || fail "$f of the Slurm plan differs from the unsharded run"
done

# One encoder x seed that fails (a model folder that does not exist) stops only its own chain: the
# other run's faces are generated and merged; scoring, which needs every run, is cancelled.
"$BIN" plan --slurm --study table3 --out "$WORK/plan3-fail" --results "$WORK/results3-fail" \
  --generator "$FIX/models/tiny-taming" --faces "$WORK/faces" --clip "$FIX/models/tiny-clip" --no-inception-score \
  --models "random,$WORK/no-such-model" --seeds 0 --shards 2 --device cpu --cpus 1 \
  --step-args generate="--batch 1 --top-k 20" -- "${TRAIN_ARGS[@]}" 2> /dev/null || fail "plan table3 (failing run) failed"
"$WORK/plan3-fail/submit.sh" > /dev/null || fail "submit.sh (table3, failing run) failed"
wait_for_plan "$WORK/plan3-fail" 300
mapfile -t GEN < <(awk '$1 == "generate" {print $2}' "$WORK/plan3-fail/jobs.txt")
mapfile -t MERGE < <(awk '$1 == "merge" {print $2}' "$WORK/plan3-fail/jobs.txt")
TRAIN_JOB="$(awk '$1 == "train" {print $2}' "$WORK/plan3-fail/jobs.txt")"
SCORE_JOB="$(awk '$1 == "score" {print $2}' "$WORK/plan3-fail/jobs.txt")"
[ "$(states "$TRAIN_JOB" | sort | paste -sd' ')" = "COMPLETED FAILED" ] || fail "training: $(states "$TRAIN_JOB" | paste -sd' ')"
[ "$(states "${GEN[0]}" | sort -u)" = COMPLETED ] || fail "the good run's generation: $(states "${GEN[0]}" | paste -sd' ')"
[ "$(states "${MERGE[0]}")" = COMPLETED ] || fail "the good run's merge: $(states "${MERGE[0]}")"
[ "$(states "${GEN[1]}" | sort -u)" = CANCELLED ] || fail "the failed run's generation: $(states "${GEN[1]}" | paste -sd' ')"
[ "$(states "$SCORE_JOB")" = CANCELLED ] || fail "scoring after a failed run: $(states "$SCORE_JOB")"
[ "$(ls "$WORK/results3-fail/runs/random-seed0/faces/"*.png | wc -l)" = 4 ] || fail "the good run's faces are missing"

echo "slurm end to end: OK (table2 in 3 shards = unsharded; a failed step cancels its dependants; table1 trained by 2 srun processes = 1 process; table3 through 5 steps = unsharded; a failed run stops only its own chain)"
