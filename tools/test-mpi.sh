#!/bin/sh
# Data-parallel gan-train under Open MPI (issue 18), on this machine: the reductions' own test
# (1-3 ranks), 2 ranks x 32 against one process with batch 64 (DCGAN, and a conditional SAGAN with
# n-dis 2: weights and losses within 1e-5 relative), two 2-rank runs bitwise equal, --resume with
# another number of ranks, a killed rank (the other exits within 10 s naming it, and one process
# resumes), SIGTERM to mpirun (one consistent checkpoint, exact resume), and 2 ranks in two network
# namespaces joined by a veth pair over TCP (the transport clusters use; no address outside the
# namespaces this script makes) equal to the shared-memory run. Installs Open MPI when missing.
# Ends with "N passed, N failed".
set -e
cd "$(dirname "$0")/.."
ROOT=$(pwd)
tools/install-deps.sh openmpi-bin libopenmpi-dev iproute2 >&2
[ -x .build/debug/gan-train ] && [ -x .build/debug/tensor-compare ] || swift build >&2
GT=$ROOT/.build/debug/gan-train
TC=$ROOT/.build/debug/tensor-compare
W=$(mktemp -d)
NS1=ganmpi1-$$; NS2=ganmpi2-$$
cleanup() {
  ip netns del "$NS1" 2>/dev/null || true
  ip netns del "$NS2" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
# Shared memory between the ranks of this machine; 2 ranks on 2 cores need --oversubscribe and
# root needs --allow-run-as-root (README).
MPIRUN="mpirun --allow-run-as-root --oversubscribe --mca btl self,vader"

pass=0; fail=0
check() {  # check NAME STATUS [DETAIL]
  if [ "$2" -eq 0 ]; then pass=$((pass + 1)); echo "ok: $1${3:+ ($3)}"; else fail=$((fail + 1)); echo "FAIL: $1${3:+: $3}"; fi
}
compare() {  # compare NAME A B TOLERANCE [NAME=LIMIT]: tensor-compare as a check
  name=$1; shift
  s=0; out=$("$TC" "$@" 2>&1) || s=$?
  check "$name" $s "$out"
}

# --- The data: 128 gray 32x32 images (bytes of a committed fixture) and 4 classes.
cd "$W"
header="{'descr': '|u1', 'fortran_order': False, 'shape': (128, 32, 32), }"
{ printf '\223NUMPY\001\000\166\000'; printf '%s%*s\n' "$header" $((118 - ${#header} - 1)) ''
  head -c 131072 "$ROOT/Tests/GanTrainingTests/Fixtures/dcgan64.safetensors"; } > data.npy
lheader="{'descr': '|u1', 'fortran_order': False, 'shape': (128,), }"
{ printf '\223NUMPY\001\000\166\000'; printf '%s%*s\n' "$lheader" $((118 - ${#lheader} - 1)) ''
  i=0; while [ $i -lt 32 ]; do printf '\000\001\002\003'; i=$((i + 1)); done; } > labels.npy
COMMON="--dataroot data.npy --image-size 32 --nz 8 --ngf 8 --ndf 8 --batch-size 64 --manual-seed 3 --threads 1 \
  --swd-every 0 --cache-dir cache --sample-every 1000"
SAGAN="--arch sagan --conditional --labels labels.npy --loss hinge --n-dis 2 --lr-g 1e-4 --lr-d 4e-4 --beta1 0 --beta2 0.9"
# The log's losses of two runs within 1e-5 relative (columns Loss_D, Loss_G, D_x, D_G_z1, D_G_z2).
losses() {
  s=0; out=$(paste -d, "$1/log.csv" "$2/log.csv" | awk -F, 'NR > 1 { for (c = 3; c <= 7; c++) {
      a = $c; b = $(c + 11); d = a - b; if (d < 0) d = -d; m = a < 0 ? -a : a; if (m < 1e-30) m = 1e-30
      if (d / m > w) w = d / m } } END { printf "worst relative loss difference %.2g", w; exit (w > 1e-5) }') || s=$?
  check "$3" $s "$out"
}

echo "== the reductions (ring order, 1 to 3 ranks)"
gcc -O2 -I "$ROOT/Sources/CGanMPI/include" "$ROOT/Tests/mpi/ring_test.c" "$ROOT/Sources/CGanMPI/gan_mpi.c" -ldl -lm -o ring
for n in 1 2 3; do
  s=0; out=$($MPIRUN -n $n ./ring 2>&1) || s=$?
  check "ring reductions over $n ranks" $s "$(echo "$out" | tail -1)"
done

echo "== 2 ranks x 32 against one process with batch 64, 3 steps"
"$GT" $COMMON --iterations 3 --outf one > one.log 2>&1 || { cat one.log; exit 1; }
for r in a b; do $MPIRUN -n 2 "$GT" $COMMON --iterations 3 --outf two$r > two$r.log 2>&1 || { cat two$r.log; exit 1; }; done
check "the start line says ranks 2" "$(grep -q 'ranks 2' twoa.log; echo $?)"
compare "DCGAN: 2 ranks = 1 process, weights and Adam moments within 1e-5" one/checkpoint.safetensors twoa/checkpoint.safetensors 1e-5
losses one twoa "DCGAN: 2 ranks = 1 process, losses within 1e-5"
compare "DCGAN: two 2-rank runs bitwise equal" twoa/checkpoint.safetensors twob/checkpoint.safetensors 0
check "DCGAN: two 2-rank runs' generators bitwise equal" "$(cmp -s twoa/generator.safetensors twob/generator.safetensors; echo $?)"
"$GT" $COMMON $SAGAN --iterations 3 --outf sone > sone.log 2>&1 || { cat sone.log; exit 1; }
for r in a b; do $MPIRUN -n 2 "$GT" $COMMON $SAGAN --iterations 3 --outf stwo$r > stwo$r.log 2>&1 || { cat stwo$r.log; exit 1; }; done
compare "conditional SAGAN (n-dis 2): 2 ranks = 1 process within 1e-5 (key bias, a rounding-noise gradient: 1e-6 absolute)" \
  sone/checkpoint.safetensors stwoa/checkpoint.safetensors 1e-5 attention.key.bias=1e-6
losses sone stwoa "conditional SAGAN: 2 ranks = 1 process, losses within 1e-5"
compare "conditional SAGAN: two 2-rank runs bitwise equal" stwoa/checkpoint.safetensors stwob/checkpoint.safetensors 0
WGAN="--arch sagan --conditional --labels labels.npy --loss wgan-gp"
"$GT" $COMMON $WGAN --iterations 2 --outf wone > wone.log 2>&1 || { cat wone.log; exit 1; }
$MPIRUN -n 2 "$GT" $COMMON $WGAN --iterations 2 --outf wtwo > wtwo.log 2>&1 || { cat wtwo.log; exit 1; }
compare "conditional SAGAN, WGAN-GP (the penalty's double backward): 2 ranks = 1 process within 1e-5" \
  wone/checkpoint.safetensors wtwo/checkpoint.safetensors 1e-5 attention.key.bias=1e-6
losses wone wtwo "conditional SAGAN, WGAN-GP: 2 ranks = 1 process, losses within 1e-5"
check "only rank 0 writes: one log line per iteration" "$([ "$(wc -l < twoa/log.csv)" = 4 ]; echo $?)"

echo "== --resume with another number of ranks"
$MPIRUN -n 2 "$GT" $COMMON --iterations 6 --outf two6 > two6.log 2>&1
"$GT" $COMMON --iterations 3 --outf mix12 > /dev/null 2>&1
$MPIRUN -n 2 "$GT" $COMMON --iterations 6 --resume --outf mix12 > mix12.log 2>&1
compare "3 steps with 1 process, resumed with 2 ranks to 6 = 6 steps with 2 ranks (within 1e-5)" \
  two6/checkpoint.safetensors mix12/checkpoint.safetensors 1e-5
$MPIRUN -n 2 "$GT" $COMMON --iterations 3 --outf mix21 > /dev/null 2>&1
"$GT" $COMMON --iterations 6 --resume --outf mix21 > mix21.log 2>&1
compare "3 steps with 2 ranks, resumed with 1 process to 6 = 6 steps with 2 ranks (within 1e-5)" \
  two6/checkpoint.safetensors mix21/checkpoint.safetensors 1e-5

# rank_pid OUTF RANK: the process id of a rank of the run writing into OUTF.
rank_pid() {
  for p in $(pgrep -f "gan-train.*--outf $1"); do
    tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2" && echo "$p"
  done | head -1
}
# wait_iterations OUTF N: until the run has logged N iterations (at most 60 s).
wait_iterations() {
  i=0; while [ $i -lt 600 ] && [ "$(tail -n +2 "$1/log.csv" 2>/dev/null | wc -l)" -lt "$2" ]; do sleep 0.1; i=$((i + 1)); done
}

echo "== a killed rank"
LONG="--iterations 100000 --checkpoint-every 4"
$MPIRUN -n 2 "$GT" $COMMON $LONG --outf killed > killed.log 2> killed.err &
wait_iterations killed 10
victim=$(rank_pid killed 1)
t0=$(date +%s%N)
kill -9 "$victim"
i=0; while [ $i -lt 200 ] && pgrep -f "gan-train.*--outf killed" > /dev/null; do sleep 0.05; i=$((i + 1)); done
t1=$(date +%s%N)
wait
ms=$(( (t1 - t0) / 1000000 ))
check "after rank 1 is killed, rank 0 exits within 10 s" "$([ $ms -le 10000 ] && ! pgrep -f 'gan-train.*--outf killed' > /dev/null; echo $?)" "$ms ms"
check "rank 0's error names the lost rank" "$(grep -q 'rank 0: rank 1 .* rank 1 was lost' killed.err; echo $?)" \
  "$(grep 'gan-train' killed.err | head -1)"
ck=$("$TC" --integer state.iteration killed/checkpoint.safetensors)
"$GT" $COMMON --iterations $((ck + 4)) --resume --outf killed > resumed.log 2>&1
check "one process resumes from the last checkpoint (iteration $ck)" "$(grep -q "resumed from .* at iteration $ck" resumed.log; echo $?)"
$MPIRUN -n 2 "$GT" $COMMON --iterations $((ck + 4)) --outf straight > /dev/null 2>&1
compare "and continues: $((ck + 4)) iterations equal an uninterrupted 2-rank run within 1e-5" \
  straight/checkpoint.safetensors killed/checkpoint.safetensors 1e-5

echo "== SIGTERM to mpirun"
$MPIRUN -n 2 "$GT" $COMMON $LONG --outf stopped > stopped.log 2>&1 &
wait_iterations stopped 6
kill -TERM "$(pgrep -f "^mpirun.*--outf stopped" | head -1)"
wait
it=$(tail -n +2 stopped/log.csv | wc -l)
check "both ranks stop at one iteration and rank 0 writes its checkpoint" \
  "$(grep -q "stopped by signal at iteration $it; checkpoint written" stopped.log; echo $?)"
$MPIRUN -n 2 "$GT" $COMMON --iterations $((it + 3)) --resume --outf stopped > /dev/null 2>&1
$MPIRUN -n 2 "$GT" $COMMON --iterations $((it + 3)) --outf nonstop > /dev/null 2>&1
compare "resumed to $((it + 3)) = uninterrupted, bitwise" nonstop/checkpoint.safetensors stopped/checkpoint.safetensors 0

echo "== two hosts: network namespaces $NS1 and $NS2 joined by veth, TCP"
ip netns add "$NS1"; ip netns add "$NS2"
ip link add "g1-$$" type veth peer name "g2-$$"
ip link set "g1-$$" netns "$NS1"; ip link set "g2-$$" netns "$NS2"
ip -n "$NS1" addr add 10.77.0.1/24 dev "g1-$$"; ip -n "$NS2" addr add 10.77.0.2/24 dev "g2-$$"
for ns in "$NS1" "$NS2"; do ip -n "$ns" link set lo up; done
ip -n "$NS1" link set "g1-$$" up; ip -n "$NS2" link set "g2-$$" up
# mpirun starts the remote rank's daemon through this agent instead of ssh: "host command".
cat > agent.sh <<EOF
#!/bin/sh
host=\$1; shift
case "\$host" in 10.77.0.1) ns=$NS1 ;; 10.77.0.2) ns=$NS2 ;; *) echo "agent: unknown host \$host" >&2; exit 1 ;; esac
exec ip netns exec "\$ns" /bin/sh -c "\$*"
EOF
chmod +x agent.sh
cat > where.sh <<'EOF'
#!/bin/sh
echo "rank $OMPI_COMM_WORLD_RANK: $(ip netns identify $$)" >> "$(dirname "$0")/where.txt"
exec "$@"
EOF
chmod +x where.sh
TCP="mpirun --allow-run-as-root --host 10.77.0.1,10.77.0.2 -n 2 --mca plm_rsh_agent $W/agent.sh --mca btl tcp,self \
  --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24"
s=0; ip netns exec "$NS1" $TCP "$W/where.sh" "$GT" $COMMON --iterations 3 --outf tcp > tcp.log 2>&1 || s=$?
check "2 ranks over TCP between the namespaces" $s "$(tail -1 tcp.log)"
check "the ranks ran in different namespaces" "$(grep -q "rank 0: $NS1" where.txt && grep -q "rank 1: $NS2" where.txt; echo $?)" \
  "$(sort where.txt | tr '\n' ';')"
compare "TCP run's weights = the shared-memory 2-rank run's, bitwise" twoa/checkpoint.safetensors tcp/checkpoint.safetensors 0

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
