#!/usr/bin/env bash
# Adds the daily chunk report as a step of a running EMR cluster (the binary installed by
# bootstrap.sh), through command-runner.jar; the step fails when the report's exit status is
# not 0 (stderr, in the step's logs, says why), and the cluster carries on (CONTINUE).
#
#   add-daily-report-step.sh [--dry-run] <cluster-id> [date]
#
#   cluster-id  j-XXXXXXXXXXXXX
#   date        YYYY-MM-DD; default: yesterday (UTC, as the binary computes it on the cluster)
#   --dry-run   print the aws command instead of running it
#
# Environment (read here, on the machine that runs this script):
#   LAKESHORE_LANDING            landing root, required, e.g.
#                                hdfs://ip-10-0-0-10.ec2.internal:8020/atenex/kafka-landing
#   LAKESHORE_REPORTS            reports root, required, e.g.
#                                hdfs://ip-10-0-0-10.ec2.internal:8020/atenex/reports
#   LAKESHORE_WAIT_FOR_COMPLETE  how long the step waits for the landing's _COMPLETE markers
#                                (default 2h; empty: do not wait)
#   AWS_PROFILE, AWS_REGION      as for any aws command
#
# Prints the new step's id (aws's JSON). Follow it with
#   aws emr describe-step --cluster-id <cluster-id> --step-id <step-id>
set -euo pipefail

PROG=add-daily-report-step
die() {
  printf '%s: error: %s\n' "$PROG" "$*" >&2
  exit 2
}

dry_run=false
args=()
for a in "$@"; do
  case "$a" in
    --dry-run) dry_run=true ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
      exit 0
      ;;
    -*) die "unknown option $a (see --help)" ;;
    *) args+=("$a") ;;
  esac
done
if [ ${#args[@]} -lt 1 ] || [ ${#args[@]} -gt 2 ]; then
  die "usage: $PROG [--dry-run] <cluster-id> [date]"
fi
cluster=${args[0]}
date=${args[1]:-}
[[ $cluster =~ ^j-[A-Z0-9]+$ ]] || die "not an EMR cluster id (j-XXXXXXXXXXXXX): $cluster"
[ -z "$date" ] || [[ $date =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || die "not a date (YYYY-MM-DD): $date"
landing=${LAKESHORE_LANDING:-}
reports=${LAKESHORE_REPORTS:-}
[ -n "$landing" ] || die "set LAKESHORE_LANDING to the landing root (hdfs://<namenode>:8020/...)"
[ -n "$reports" ] || die "set LAKESHORE_REPORTS to the reports root (hdfs://<namenode>:8020/...)"
for v in "$landing" "$reports"; do
  # The step's arguments are passed in the CLI's shorthand syntax: these would break it.
  [[ $v != *[],[{}\ ]* ]] || die "URL contains a comma, bracket, brace or space: $v"
done
wait=${LAKESHORE_WAIT_FOR_COMPLETE-2h}

step_args=(/usr/local/bin/lakeshore report daily-chunks --landing "$landing" --output "$reports")
[ -z "$date" ] || step_args+=(--date "$date")
[ -z "$wait" ] || step_args+=(--wait-for-complete "$wait")
joined=$(IFS=,; printf '%s' "${step_args[*]}")
name=lakeshore-daily-chunks-${date:-yesterday}
step="Type=CUSTOM_JAR,Name=$name,ActionOnFailure=CONTINUE,Jar=command-runner.jar,Args=[$joined]"

cmd=(aws emr add-steps --cluster-id "$cluster" --steps "$step")
if $dry_run; then
  printf '%q ' "${cmd[@]}"
  printf '\n'
  exit 0
fi
command -v aws >/dev/null || die "the aws CLI is not installed"
"${cmd[@]}" || {
  rc=$?
  printf '%s: error: aws emr add-steps failed (status %s) for cluster %s\n' "$PROG" "$rc" "$cluster" >&2
  exit "$rc"
}
