#!/usr/bin/env bash
# A throwaway single-node Slurm cluster for the Slurm test: `source` this file, then
# `cluster_start DIR` brings up munged, slurmctld and slurmd with every file (key, sockets,
# spool, logs, PIDs) under DIR, and `cluster_stop DIR` stops exactly the daemons it started, by
# PID. Nothing is written outside DIR, so the machine's own /etc/slurm and /etc/munge (if any)
# are untouched and a second cluster can never be confused with this one.
#
# Needs Debian's slurmctld, slurmd, slurm-client and munge (Slurm 22.05 on Debian 12), and root:
# SlurmUser=root keeps the test free of service accounts.

cluster_install() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
        && command -v sbatch >/dev/null && command -v munged >/dev/null; then
        return 0
    fi
    echo "installing Slurm and munge from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null
    # The packages start their own daemons on /etc's configuration where an init system runs;
    # the test uses its own, so stop those if they came up.
    pkill -x slurmctld 2>/dev/null || true
    pkill -x slurmd 2>/dev/null || true
}

# Waits until "$@" succeeds, at most $1 seconds.
cluster_wait_for() {
    local limit=$1
    shift
    local waited=0
    until "$@" >/dev/null 2>&1; do
        sleep 1
        waited=$((waited + 1))
        if [ "$waited" -ge "$limit" ]; then
            return 1
        fi
    done
}

cluster_start() {
    local dir
    dir=$(realpath "$1")
    mkdir -p "$dir"/{munge,spool/ctld,spool/d,log,run}
    chmod 700 "$dir/munge"
    dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
    chmod 400 "$dir/munge/munge.key"
    # --force: munged refuses a key and socket outside /etc and /run otherwise (it checks the
    # permissions of every parent directory, which a test directory under /tmp does not meet).
    munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
        --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" \
        --seed-file="$dir/munge/munged.seed"

    local host cpus
    host=$(hostname -s)
    cpus=$(nproc)
    # No cgroup.conf: Slurm 22.05 has no CgroupPlugin=disabled, and with the cgroup plugins
    # slurmd fails to start in a container. proctrack/linuxproc and task/none need no cgroups.
    cat >"$dir/slurm.conf" <<CONF
ClusterName=grokgpu-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
SlurmctldPort=$((20000 + RANDOM % 20000))
SlurmdPort=$((40000 + RANDOM % 20000))
StateSaveLocation=$dir/spool/ctld
SlurmdSpoolDir=$dir/spool/d
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmctldTimeout=30
SlurmdTimeout=30
MinJobAge=300
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
    export SLURM_CONF="$dir/slurm.conf"
    slurmctld -f "$SLURM_CONF"
    cluster_wait_for 30 scontrol ping || {
        echo "slurmctld did not come up; its log:" >&2
        tail -20 "$dir/log/slurmctld.log" >&2
        return 1
    }
    slurmd -f "$SLURM_CONF"
    cluster_wait_for 60 bash -c "sinfo -h -o %t | grep -qE '^(idle|mix|alloc)'" || {
        echo "slurmd did not register; its log:" >&2
        tail -20 "$dir/log/slurmd.log" >&2
        return 1
    }
}

cluster_stop() {
    local dir
    dir=$(realpath "$1")
    local pidfile pid
    for pidfile in "$dir/run/slurmd.pid" "$dir/run/slurmctld.pid" "$dir/run/munged.pid"; do
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 20); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -9 "$pid" 2>/dev/null || true
    done
}
