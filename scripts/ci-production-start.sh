#!/usr/bin/env bash
# CI: what the Dockerfile does, without a container daemon — build, install only production
# dependencies into a fresh folder holding only what the image holds, then run `node dist/main.js`
# there (NODE_ENV=production) against PostgreSQL (a fresh database) and a separately started Azure
# simulator, until /readyz answers ready; then stop both and clean up.
#   PostgreSQL: CMK_TEST_PG_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
ADMIN_URL="${CMK_TEST_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DB="cmk_prodstart_$$"
WORK="$(mktemp -d)"
SIM_PID=""
BOT_PID=""

cleanup() {
  local rc=$?
  [ -n "$BOT_PID" ] && kill "$BOT_PID" 2>/dev/null && wait "$BOT_PID" 2>/dev/null
  [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
  psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  if [ "$rc" -ne 0 ]; then
    echo "-- simulator output:" && cat "$WORK/simulator.log" 2>/dev/null || true
    echo "-- bot output:" && cat "$WORK/bot.log" 2>/dev/null || true
    [ -s "$WORK/pglite.log" ] && echo "-- bot output (embedded PGlite):" && cat "$WORK/pglite.log" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

# Waits until a log file has a line matching a pattern; prints the first capture group.
wait_for_line() { # file pattern seconds pid
  for _ in $(seq 1 "$3"); do
    if m=$(sed -nE "s#$2#\\1#p" "$1" | head -n1) && [ -n "$m" ]; then
      echo "$m"
      return 0
    fi
    kill -0 "$4" 2>/dev/null || { echo "process $4 exited before printing /$2/" >&2; return 1; }
    sleep 1
  done
  echo "no /$2/ in $1 after $3 s" >&2
  return 1
}

# The Node.js major the image runs (the Dockerfile's ARG NODE_MAJOR): the production process and the
# operator command run on it — the machine's node when it is that major, otherwise Node.js's own
# build of it from the npm registry, unpacked into the work folder and removed with it
# (scripts/production-node.ts, which the benchmarks use too). The install itself is the machine's
# npm: no production dependency builds native code.
RUNTIME_NODE=$(npx --no-install tsx scripts/production-node.ts "$WORK/runtime")
echo "production runs on Node.js $("$RUNTIME_NODE" -v)"

echo "== build"
npm run build

echo "== production install into a fresh folder (what the image holds)"
APP="$WORK/app"
mkdir -p "$APP"
cp -R package.json package-lock.json dist cards policy "$APP/"
(cd "$APP" && npm ci --omit=dev --no-audit --no-fund --prefer-offline)
for dev in tsx node-forge typescript jest; do
  if [ -e "$APP/node_modules/$dev" ]; then echo "dev dependency $dev is in the production install" >&2; exit 1; fi
done
if [ -e "$APP/dist/simulator" ] || [ -e "$APP/dist/dev" ]; then echo "dev tooling (simulator, Slack stand-in) is in dist/" >&2; exit 1; fi

echo "== NODE_ENV=production with no Azure configured refuses to start"
if (cd "$APP" && NODE_ENV=production PORT=0 DATA_DIR="$WORK/data" "$RUNTIME_NODE" dist/main.js >"$WORK/refused.log" 2>&1); then
  echo "node dist/main.js started without Azure configuration" >&2
  exit 1
fi
grep -q "AZURE_CLIENT_ID" "$WORK/refused.log"

echo "== PostgreSQL: a fresh database $DB"
psql -q -v ON_ERROR_STOP=1 "$ADMIN_URL" -c "CREATE DATABASE $DB" >/dev/null
DATABASE_URL="${ADMIN_URL%/*}/$DB"

echo "== the Azure simulator, started on its own (npm run simulator, here without npm and tsx's CLI in between so its pid is its own)"
: >"$WORK/simulator.log"
SIMULATOR_PORT=0 node --import tsx src/simulator/cli.ts >"$WORK/simulator.log" 2>&1 &
SIM_PID=$!
ARM_ENDPOINT=$(wait_for_line "$WORK/simulator.log" '^Azure simulator listening on (https://[^ ]+)$' 60 "$SIM_PID")
ARM_CA_FILE=$(wait_for_line "$WORK/simulator.log" '^CA certificate [^:]*: (.+)$' 5 "$SIM_PID")
case "$ARM_CA_FILE" in /*) ;; *) ARM_CA_FILE="$ROOT/$ARM_CA_FILE" ;; esac

# What production runs: npm run start:prod's command (its node flags included), without npm in between.
START_PROD=$(node -p "require('./package.json').scripts['start:prod']")
case "$START_PROD" in "node "*" dist/main.js" | "node dist/main.js") ;; *) echo "start:prod is not node [flags] dist/main.js: $START_PROD" >&2; exit 1 ;; esac
echo "== $START_PROD (NODE_ENV=production, PostgreSQL, simulator at $ARM_ENDPOINT)"
: >"$WORK/bot.log"
(
  cd "$APP"
  exec env NODE_ENV=production HOST=127.0.0.1 PORT=0 DATABASE_URL="$DATABASE_URL" \
    AZURE_MODE=simulator ARM_ENDPOINT="$ARM_ENDPOINT" ARM_CA_FILE="$ARM_CA_FILE" LOG_LEVEL=warn \
    MicrosoftAppType=UserAssignedMSI MicrosoftAppId=00000000-0000-4000-8000-00000000b07a MicrosoftAppTenantId=00000000-0000-4000-8000-0000000e0a1d \
    "$RUNTIME_NODE" ${START_PROD#node }
) >"$WORK/bot.log" 2>&1 &
BOT_PID=$!
URL=$(wait_for_line "$WORK/bot.log" '^cmk-chatops is listening on (http://[^ ]+)$' 60 "$BOT_PID")

ready=""
for _ in $(seq 1 30); do
  if ready=$(curl -fsS "$URL/readyz"); then break; fi
  sleep 1
done
echo "/readyz: $ready"
echo "$ready" | grep -q '"status":"ready"'
curl -fsS "$URL/healthz" | grep -q '"status":"ok"'
metrics=$(curl -fsS "$URL/metrics")
echo "$metrics" | grep -q '^cmk_job_queue_depth '
echo "$metrics" | grep -q '^process_resident_memory_bytes '
# Teams requests are checked in production: an unsigned activity is refused.
unsigned=$(curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' -d '{"type":"message","text":"help"}' "$URL/api/messages")
[ "$unsigned" = 401 ] || { echo "an unsigned Teams activity answered $unsigned, not 401" >&2; exit 1; }
grep -q 'PostgreSQL (DATABASE_URL)' "$WORK/bot.log"
# The port on this runtime: the listening module's own tests, which `npm test` runs on the machine's
# Node.js (where the port cannot be shared), run here on the image's, where it is (src/listen.ts);
# then the running bot lets a burst of new connections in, and refuses a second process on its port.
"$RUNTIME_NODE" --experimental-vm-modules --disable-warning=ExperimentalWarning node_modules/jest/bin/jest.js test/unit/listen.test.ts
burst=$(seq 1 50 | xargs -P 50 -I{} sh -c "curl -s --max-time 10 -o /dev/null -w '%{http_code}\n' '$URL/healthz' || true" | sort | uniq -c | tr -s ' ') || true
[ "$burst" = " 50 200" ] || { echo "50 new connections at once were answered: $burst" >&2; exit 1; }
second=0
(cd "$APP" && NODE_ENV=production HOST=127.0.0.1 PORT="${URL##*:}" DATABASE_URL="$DATABASE_URL" AZURE_MODE=simulator ARM_ENDPOINT="$ARM_ENDPOINT" ARM_CA_FILE="$ARM_CA_FILE" TEAMS_ENABLED=false \
  timeout 60 "$RUNTIME_NODE" dist/main.js >"$WORK/second.log" 2>&1) || second=$?
[ "$second" = 2 ] && grep -q "is already in use" "$WORK/second.log" || { echo "a second process on port ${URL##*:} exited $second:" >&2; cat "$WORK/second.log" >&2; exit 1; }
echo "port ${URL##*:}: 50 new connections at once answered; a second process refused"
# The operator command the docs give for a running replica works in the production install.
# Its own output is shown whether it passes or not (a failing command substitution would end the script unseen).
verified=$(cd "$APP" && NODE_ENV=production TEAMS_ENABLED=false DATABASE_URL="$DATABASE_URL" AZURE_MODE=simulator ARM_ENDPOINT="$ARM_ENDPOINT" "$RUNTIME_NODE" dist/cli/audit-verify.js 2>&1) || { echo "audit-verify failed: $verified" >&2; exit 1; }
echo "audit-verify: $verified"
grep -q '^audit log intact' <<<"$verified"

echo "== stop (SIGTERM)"
kill -TERM "$BOT_PID"
rc=0
wait "$BOT_PID" || rc=$?
BOT_PID=""
if [ "$rc" -ne 0 ]; then echo "the bot exited $rc on SIGTERM" >&2; exit 1; fi
if grep -n 'DeprecationWarning' "$WORK/bot.log"; then echo "the production bot printed a deprecation warning on Node.js $("$RUNTIME_NODE" -v)" >&2; exit 1; fi

echo "== embedded PGlite: a new data folder starts from the database the build made (no initdb in the bot)"
ls "$APP"/dist/pgdata-pglite-*.tar.gz >/dev/null
: >"$WORK/pglite.log"
(
  cd "$APP"
  exec env NODE_ENV=production HOST=127.0.0.1 PORT=0 DATA_DIR="$WORK/data" AZURE_MODE=simulator ARM_ENDPOINT="$ARM_ENDPOINT" ARM_CA_FILE="$ARM_CA_FILE" TEAMS_ENABLED=false LOG_LEVEL=warn \
    "$RUNTIME_NODE" ${START_PROD#node }
) >"$WORK/pglite.log" 2>&1 &
BOT_PID=$!
URL=$(wait_for_line "$WORK/pglite.log" '^cmk-chatops is listening on (http://[^ ]+)$' 60 "$BOT_PID")
grep -q "embedded PGlite in $WORK/data/pglite (new: from the build’s empty database)" "$WORK/pglite.log"
for _ in $(seq 1 30); do
  if ready=$(curl -fsS "$URL/readyz"); then break; fi
  sleep 1
done
echo "$ready" | grep -q '"status":"ready"'
kill -TERM "$BOT_PID"
wait "$BOT_PID"
BOT_PID=""
if grep -n 'DeprecationWarning' "$WORK/pglite.log"; then echo "the production bot on PGlite printed a deprecation warning" >&2; exit 1; fi
echo "PGlite: ready on a new data folder loaded from $(cd "$APP" && ls dist/pgdata-pglite-*.tar.gz)"
echo "Production start passed: node dist/main.js answered /readyz ready."
