#!/usr/bin/env bash
# Ways to get a fresh working checkout of a 10,000-file repo from mogplexd's bare mirror, timed
# side by side in one run (ms, p50 and min over BENCH_CLONE_RUNS, default 3). Each line says whether
# the result can be isolated the way a sandbox must be (bubblewrap binds only the sandbox
# read-write, the mirror read-only; the data folder and other sandboxes stay invisible).
# Usage: bench/clone-strategies.sh [source-repo]   (without one, a 10,000-file repo is made)
# Prints a table on stdout; bench/engine.sh calls it.
set -euo pipefail
reps=${BENCH_CLONE_RUNS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=${1:-}
if [[ -z $src ]]; then
  src="$work/src.git"
  git init -q --bare --initial-branch=main "$src"
  git clone -q "$src" "$work/seed" 2>/dev/null
  mkdir -p "$work/seed/files"
  (cd "$work/seed/files" && seq 1 10000 | split -l 1 -a 5 - f)
  git -C "$work/seed" add -A
  git -C "$work/seed" -c gc.auto=0 -c user.name=b -c user.email=b@example.invalid commit -qm "10,000 files"
  git -C "$work/seed" push -q origin HEAD:main
  rm -rf "$work/seed"
fi
mirror="$work/mirror.git"
git clone -q --mirror "$src" "$mirror"
commit=$(git --git-dir "$mirror" rev-parse main)
par=(-c checkout.workers=4 -c checkout.thresholdForParallelism=100)

# A template checkout (what the warm pool would keep once per repo and commit).
template="$work/template"
git clone -q --shared --no-checkout "$mirror" "$template"
git -C "$template" "${par[@]}" checkout -q --detach "$commit"

n=0
ms_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", (b-a)*1000}'; }
# Sanity: a result must be a clean checkout of the commit with every file.
check() {
  local d=$1
  [[ $(git -C "$d" rev-parse HEAD) == "$commit" ]] || { echo "bad HEAD in $d" >&2; exit 1; }
  [[ -z $(git -C "$d" status --porcelain) ]] || { echo "dirty checkout in $d" >&2; exit 1; }
  [[ $(find "$d/files" -type f | wc -l) == 10000 ]] || { echo "missing files in $d" >&2; exit 1; }
}

# Strategies: each function makes a checkout in $1.
s_shared_par() { git clone -q --shared --no-checkout "$mirror" "$1" && git -C "$1" "${par[@]}" checkout -q --detach "$commit"; }
s_shared_two() {
  # Two checkouts at once into different folders (what the warm pool's filler does); timed per checkout.
  s_shared_par "$1" & local a=$!
  s_shared_par "$1.2" & local b=$!
  wait "$a" && wait "$b"
}
s_shared_one() { git clone -q --shared --no-checkout "$mirror" "$1" && git -C "$1" -c checkout.workers=1 checkout -q --detach "$commit"; }
s_shared_tuned() {
  git clone -q --shared --no-checkout "$mirror" "$1" &&
    git -C "$1" "${par[@]}" -c index.threads=true -c core.untrackedCache=true -c feature.manyFiles=true checkout -q --detach "$commit"
}
s_local() { git clone -q --local --no-checkout "$mirror" "$1" && git -C "$1" "${par[@]}" checkout -q --detach "$commit"; }
s_readtree() {
  # No checkout machinery: index from the tree, then checkout-index writes every file.
  git clone -q --shared --no-checkout "$mirror" "$1" && git -C "$1" read-tree "$commit" &&
    git -C "$1" "${par[@]}" checkout-index -a -q && git -C "$1" update-ref --no-deref HEAD "$commit"
}
s_worktree() { git --git-dir "$mirror" worktree add -q --detach "$1" "$commit"; }
s_copy() { cp -a --reflink=auto "$template" "$1" && git -C "$1" update-index -q --refresh; }
s_copy_norefresh() { cp -a --reflink=auto "$template" "$1"; }
s_hardlink() {
  # Working tree hardlinked, .git copied; the index then refreshed against the new paths.
  mkdir "$1" && cp -a "$template/.git" "$1/.git" && cp -al "$template/files" "$1/files" && git -C "$1" update-index -q --refresh
}
s_tar() { mkdir "$1" && tar -C "$template" -cf - . | tar -C "$1" -xf - && git -C "$1" update-index -q --refresh; }

strategies=(
  "s_shared_par|clone --shared + checkout, 4 workers (current)|yes: mirror read-only via alternates"
  "s_shared_two|two of those side by side, per checkout|yes"
  "s_shared_one|clone --shared + checkout, 1 worker|yes"
  "s_shared_tuned|clone --shared + checkout, index.threads, untrackedCache, manyFiles|yes"
  "s_readtree|clone --shared + read-tree + checkout-index -a|yes"
  "s_local|clone --local (hardlinked packs) + checkout|no: packs share inodes with the mirror (chmod + write corrupts it)"
  "s_copy|cp -a --reflink=auto of a template + index refresh|yes: a private copy"
  "s_tar|tar pipe of a template + index refresh|yes: a private copy"
  "s_copy_norefresh|cp -a of a template, no refresh (index stale)|yes, but git re-hashes on first status"
  "s_worktree|git worktree add from the mirror|no: .git, index, objects live in the mirror (must be writable)"
  "s_hardlink|hardlinked working tree from a template|no: files share inodes with the template"
)

# Round robin (every strategy once per round, the order rotated) so that the machine's drift hits all alike; each
# timing starts after a sync, and the round's checkouts are removed between rounds, not timed.
declare -A times=()
count=${#strategies[@]}
for round in $(seq 0 $((reps - 1))); do
  made=()
  for k in $(seq 0 $((count - 1))); do
    # Each round starts with a different strategy (the first one after a round's cleanup pays for it).
    entry=${strategies[$(((k + round * 3) % count))]}
    IFS='|' read -r fn _ _ <<<"$entry"
    n=$((n + 1))
    d="$work/t$n"
    sync
    t0=$EPOCHREALTIME
    "$fn" "$d"
    ms=$(ms_since "$t0")
    if [[ $fn == s_shared_two ]]; then
      ms=$(awk -v m="$ms" 'BEGIN {printf "%.1f", m/2}')
      check "$d.2"
      made+=("$fn|$d.2")
    fi
    times[$fn]+="$ms "
    [[ $fn == s_copy_norefresh ]] || check "$d"
    made+=("$fn|$d")
  done
  for m in "${made[@]}"; do
    IFS='|' read -r fn d <<<"$m"
    if [[ $fn == s_worktree ]]; then git --git-dir "$mirror" worktree remove --force "$d"; else rm -rf "$d"; fi
  done
  sync
done

printf '%-68s %9s %9s  %s\n' "strategy (10,000 files, $reps runs each)" "p50 ms" "min ms" "isolated?"
for entry in "${strategies[@]}"; do
  IFS='|' read -r fn label iso <<<"$entry"
  sorted=$(tr ' ' '\n' <<<"${times[$fn]}" | grep . | sort -n)
  p50=$(awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}' <<<"$sorted")
  min=$(head -1 <<<"$sorted")
  printf '%-68s %9s %9s  %s\n' "$label" "$p50" "$min" "$iso"
done
