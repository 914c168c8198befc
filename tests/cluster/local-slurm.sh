#!/usr/bin/env bash
# A throw-away one-node SLURM cluster for the cluster tests (Debian 12, root, no systemd).
#
#   tests/cluster/local-slurm.sh up      install what is missing, write the configs, start the daemons
#   tests/cluster/local-slurm.sh down    stop the daemons this script started (by their pid files)
#   tests/cluster/local-slurm.sh purge   down, then delete the job state, logs and accounting database
#   tests/cluster/local-slurm.sh status  daemons and sinfo
#
# `up` is idempotent: daemons already running are reused, a changed config restarts them.
# Accounting is on (MariaDB + slurmdbd), so `sacct` works the way snakemake-executor-plugin-slurm
# polls by default, and the tests can read what ran from the accounting records.
#
# Knobs (environment):
#   LOCAL_SLURM_PARTITION  partition name                                  (default: debug)
#   LOCAL_SLURM_GPUS       GPUs the node advertises as GRES gpu, 0..5      (default: 2)
#                          (stand-ins with no hardware behind them: jobs asking
#                          for a GPU are scheduled and accounted, and the code
#                          falls back to the CPU); 0 = none
#   LOCAL_SLURM_NO_APT=1   never call apt-get; fail when a package is missing
#   LOCAL_SLURM_FORCE=1    replace an /etc/slurm/slurm.conf this script did not write
#
# Daemons bind to loopback only: slurmctld 6817, slurmd 6818, slurmdbd 6819, MariaDB 3306.
# No cgroups (proctrack/linuxproc, task/none): memory and CPU requests drive scheduling only.
set -euo pipefail

PARTITION=${LOCAL_SLURM_PARTITION:-debug}
GPUS=${LOCAL_SLURM_GPUS:-2}
CLUSTER=rnnhmm-ci
ETC=/etc/slurm
RUN=/run/slurm
LOGDIR=/var/log/slurm
SPOOL_CTLD=/var/spool/slurmctld
SPOOL_D=/var/spool/slurmd
DB=slurm_acct_db
DB_USER=slurm
DB_PASS=rnnhmm-ci-only   # loopback-only database of a throw-away cluster
PACKAGES=(munge slurm-wlm slurmdbd mariadb-server)

say() { printf '[local-slurm %(%T)T] %s\n' -1 "$*" >&2; }
fail() { say "error: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (it installs packages and starts system daemons)"

running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

retry_until() {  # retry_until SECONDS WHAT COMMAND...
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || fail "gave up after waiting for $what"
    sleep 0.25
  done
}

stop() {  # stop NAME PIDFILE: TERM, wait up to 10 s, then KILL; only the pid in the file
  local name=$1 pidfile=$2 pid
  if running "$pidfile"; then
    pid=$(cat "$pidfile")
    say "stopping $name ($pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && { say "$name ignored TERM, killing"; kill -9 "$pid" 2>/dev/null || true; }
  fi
  rm -f "$pidfile"
}

install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "${LOCAL_SLURM_NO_APT:-0}" = 1 ] && fail "missing packages: ${missing[*]}"
  command -v apt-get >/dev/null || fail "missing packages ${missing[*]} and no apt-get"
  say "installing ${missing[*]}"
  apt-get update -qq </dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    </dev/null >/dev/null
}

# install_if_changed DEST MODE < content; exit status 0 when the file changed
install_if_changed() {
  local dest=$1 mode=$2 new
  new=$(mktemp)
  cat >"$new"
  if [ -f "$dest" ] && cmp -s "$new" "$dest"; then rm -f "$new"; return 1; fi
  install -D -m "$mode" -o root -g root "$new" "$dest"
  rm -f "$new"
}

start_munge() {
  [ -s /etc/munge/munge.key ] || { say "creating the munge key"; mungekey --create --force; }
  chown -R munge:munge /etc/munge
  chmod 0700 /etc/munge
  chmod 0600 /etc/munge/munge.key
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
  running /run/munge/munged.pid || { say "starting munged"; runuser -u munge -- /usr/sbin/munged; }
  retry_until 20 munge sh -c 'munge -n | unmunge'
}

start_mariadb() {
  install -d -o mysql -g mysql -m 0755 /run/mysqld
  [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql >/dev/null
  if ! mariadb-admin ping >/dev/null 2>&1; then
    say "starting MariaDB"
    setsid /usr/sbin/mariadbd --user=mysql --bind-address=127.0.0.1 --pid-file=/run/mysqld/mysqld.pid \
      </dev/null >>"$LOGDIR/mariadb.log" 2>&1 &
    retry_until 60 MariaDB mariadb-admin ping
  fi
  # ALTER as well as CREATE: a user left by an earlier run keeps its old password otherwise
  mariadb <<SQL
CREATE DATABASE IF NOT EXISTS $DB;
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
ALTER USER '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON $DB.* TO '$DB_USER'@'localhost';
FLUSH PRIVILEGES;
SQL
}

write_configs() {  # exit status 0 when slurm.conf or gres.conf changed
  local host node mem gres_types="" gres="" changed=1
  # never overwrite the configuration of a real cluster
  if [ -f "$ETC/slurm.conf" ] && ! grep -qE 'generated by (tests/cluster/local-slurm|slurm-local)\.sh' "$ETC/slurm.conf" &&
     [ "${LOCAL_SLURM_FORCE:-0}" != 1 ]; then
    fail "$ETC/slurm.conf was not written by this script; refusing to replace it (LOCAL_SLURM_FORCE=1 does)"
  fi
  host=$(hostname -s)
  getent hosts "$host" >/dev/null || echo "127.0.0.1 $host" >>/etc/hosts
  # the node as slurmd sees it, with 1 GiB less memory (more than detected drains the node)
  mem=$(( $(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo) - 1024 ))
  node=$(slurmd -C | head -n 1 | sed -E "s/RealMemory=[0-9]+/RealMemory=$mem/")
  if [ "$GPUS" -gt 0 ]; then gres_types="GresTypes=gpu"; gres="Gres=gpu:$GPUS"; fi
  # slurmd counts a GPU only when it has a device file: stand-ins that exist on every Linux
  local devices=(/dev/null /dev/zero /dev/full /dev/random /dev/urandom) i
  [ "$GPUS" -le ${#devices[@]} ] || fail "LOCAL_SLURM_GPUS must be at most ${#devices[@]}"
  install_if_changed "$ETC/gres.conf" 0644 <<EOF && changed=0
# generated by tests/cluster/local-slurm.sh: GPUs without hardware behind them
AutoDetect=off
$(for ((i = 0; i < GPUS; i++)); do echo "NodeName=$host Name=gpu File=${devices[i]} Count=1"; done)
EOF
  install_if_changed "$ETC/slurm.conf" 0644 <<EOF && changed=0
# generated by tests/cluster/local-slurm.sh: a one-node throw-away cluster
ClusterName=$CLUSTER
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
StateSaveLocation=$SPOOL_CTLD
SlurmdSpoolDir=$SPOOL_D
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOGDIR/slurmctld.log
SlurmdLogFile=$LOGDIR/slurmd.log
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819
AccountingStorageTRES=gres/gpu
AccountingStoreFlags=job_comment
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
InactiveLimit=0
KillWait=5
Waittime=0
MinJobAge=300
$gres_types
$node $gres NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP DefMemPerCPU=1000
EOF
  install_if_changed "$ETC/slurmdbd.conf" 0600 <<EOF || true
# generated by tests/cluster/local-slurm.sh
AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=root
LogFile=$LOGDIR/slurmdbd.log
PidFile=$RUN/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=$DB_USER
StoragePass=$DB_PASS
StorageLoc=$DB
EOF
  return $changed
}

node_ready() { sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; }

up() {
  local t0=$SECONDS
  install_packages
  mkdir -p "$RUN" "$LOGDIR" "$SPOOL_CTLD" "$SPOOL_D"
  start_munge
  if write_configs; then
    say "configuration changed: restarting the SLURM daemons"
    stop slurmd "$RUN/slurmd.pid"
    stop slurmctld "$RUN/slurmctld.pid"
    stop slurmdbd "$RUN/slurmdbd.pid"
  fi
  start_mariadb
  running "$RUN/slurmdbd.pid" || { say "starting slurmdbd"; slurmdbd; }
  retry_until 60 slurmdbd sacctmgr -n show cluster
  running "$RUN/slurmctld.pid" || { say "starting slurmctld"; slurmctld; }
  retry_until 60 slurmctld scontrol ping
  running "$RUN/slurmd.pid" || { say "starting slurmd"; slurmd; }
  if sinfo -h -N -o '%T' 2>/dev/null | grep -qE 'down|drain'; then
    scontrol update nodename="$(hostname -s)" state=resume || true
  fi
  retry_until 60 "the node to come up" node_ready
  sinfo >&2
  say "cluster up in $((SECONDS - t0)) s (partition $PARTITION, $GPUS GRES gpu, accounting via slurmdbd)"
}

down() {
  stop slurmd "$RUN/slurmd.pid"
  stop slurmctld "$RUN/slurmctld.pid"
  stop slurmdbd "$RUN/slurmdbd.pid"
  stop MariaDB /run/mysqld/mysqld.pid
  stop munged /run/munge/munged.pid
}

purge() {
  mariadb-admin ping >/dev/null 2>&1 &&
    mariadb -e "DROP DATABASE IF EXISTS $DB; DROP USER IF EXISTS '$DB_USER'@'localhost'" || true
  down
  rm -rf "$SPOOL_CTLD" "$SPOOL_D" "$LOGDIR"
}

status() {
  local entry
  for entry in munged:/run/munge/munged.pid MariaDB:/run/mysqld/mysqld.pid slurmdbd:$RUN/slurmdbd.pid \
               slurmctld:$RUN/slurmctld.pid slurmd:$RUN/slurmd.pid; do
    if running "${entry#*:}"; then echo "${entry%%:*} running"; else echo "${entry%%:*} stopped"; fi
  done
  sinfo 2>/dev/null || true
}

case "${1:-}" in
  up | down | purge | status) "$1" ;;
  *) echo "usage: $0 up|down|purge|status" >&2; exit 2 ;;
esac
