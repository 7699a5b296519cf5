#!/usr/bin/env bash
# The walkthrough of docs/api.md: a new contract's whole life through the HTTP API, against a
# YOROZU server you started on a THROWAWAY data directory.
#
#   make run DATA=/tmp/yorozu-walkthrough ADDR=127.0.0.1:18080    # terminal 1: a fresh store
#   scripts/walkthrough.sh                                         # terminal 2
#
# DATA and ADDR must be what the server was started with (those are the defaults); YOROZU is the
# binary (default bin/yorozu, which `make run` builds). Needs bash, curl (7.76 or later) and go;
# no jq, no python, no authenticator app: scripts/walkhelper reads JSON, makes UUIDs and computes
# the TOTP code.
#
# Every command is printed (after "$ ") exactly as it is run, then its output. The script writes
# a staff member, an order, a contract, a price list and an API key, and events are never deleted:
# it refuses a store that already holds events. It closes no billing month.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${DATA:-/tmp/yorozu-walkthrough}
ADDR=${ADDR:-127.0.0.1:18080}
YOROZU=${YOROZU:-bin/yorozu}
BASE="http://$ADDR"
API="$BASE/api/v1"

fail() { printf 'walkthrough: %s\n' "$*" >&2; exit 1; }
# run prints a command as it is written here, then runs it.
run() { printf '$ %s\n' "$1"; eval "$1"; }
step() { printf '\n## %s\n' "$*"; }
# learnt shows the value a command stored in a variable.
learnt() { printf '# %s=%s\n' "$1" "${!1}"; }
# expect_status checks the HTTP status a demonstrated error printed on its last line.
expect_status() {
	[ "$(tail -n 1 "$OUT")" = "HTTP $1" ] || fail "expected HTTP $1, got: $(cat "$OUT")"
}

[ -x "$YOROZU" ] || fail "no binary at $YOROZU: run 'make build' (or set YOROZU)"
[ -S "$DATA/yorozu.sock" ] || fail "no server runs on $DATA (no $DATA/yorozu.sock): start one with
    make run DATA=$DATA ADDR=$ADDR"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
OUT="$WORK/out.json"

step "0. The helper, and a server with an empty store"
for v in DATA BASE API YOROZU WORK OUT; do learnt "$v"; done
run 'go build -o "$WORK/walkhelper" ./scripts/walkhelper'
run 'YZ="$WORK/walkhelper"'
for _ in $(seq 1 150); do
	code=$(curl -sS -o "$OUT" -w '%{http_code}' "$BASE/readyz" || true)
	[ "$code" = 200 ] && break
	sleep 0.2
done
run 'curl -sS --fail-with-body "$BASE/readyz" -o "$OUT"'
run '"$YZ" get "projections.*.head" <"$OUT" | sort -u'
[ "$("$YZ" get 'projections.*.head' <"$OUT" | sort -u)" = 0 ] ||
	fail "the server on $ADDR already holds events; the walkthrough writes events that can never be
    deleted, so it runs only on a new, empty data directory: stop that server and start one with
    make run DATA=\$(mktemp -d) ADDR=$ADDR   (and give the same DATA to this script)"

step "1. A staff member, a TOTP code, a session"
STAFF=walkthrough
PASSWORD='a throwaway walkthrough password'
learnt STAFF
learnt PASSWORD
run 'printf "%s\n" "$PASSWORD" | "$YOROZU" staff add --data "$DATA" --id "$STAFF" --role operator | tee "$OUT"'
run 'SECRET=$("$YZ" get totpSecret <"$OUT")'
run 'OTP=$("$YZ" totp "$SECRET")'
learnt OTP
run '"$YZ" json staffId="$STAFF" password="$PASSWORD" otp="$OTP" | curl -sS --fail-with-body "$API/auth/login" -H "Content-Type: application/json" --data-binary @- | tee "$OUT"'
run 'TOKEN=$("$YZ" get token <"$OUT")'
run 'AUTH="Authorization: Bearer $TOKEN"'

step "2. Dates: a paper form received two months ago, entered today"
run 'MONTH_OPENED=$("$YZ" month -2)'
learnt MONTH_OPENED
run 'MONTH_BILLED=$("$YZ" month -1)'
learnt MONTH_BILLED
run 'APPLIED_ON=$("$YZ" formdate -2 1)'
learnt APPLIED_ON
run 'DESIRED_DATE=$("$YZ" formdate -2 20)'
learnt DESIRED_DATE
run 'ACCEPTED_AT="$MONTH_OPENED-01T10:00:00+09:00"'
learnt ACCEPTED_AT
run '"$YZ" set appliedOn="$APPLIED_ON" desiredDate="$DESIRED_DATE" <docs/examples/new-order.json >"$WORK/order.json"'

step "3. An invalid form: every field error at once, nothing stored"
run '"$YZ" set contractor.nameKana=やまと billingAddress.postalCode=100-0005 <"$WORK/order.json" | curl -sS "$API/orders" -H "$AUTH" -H "Content-Type: application/json" --data-binary @- -w "HTTP %{http_code}\n" | tee "$OUT"'
expect_status 422

step "4. Submit the form"
run 'curl -sS --fail-with-body "$API/orders" -H "$AUTH" -H "Content-Type: application/json" -H "Idempotency-Key: $("$YZ" uuid)" --data-binary @"$WORK/order.json" | tee "$OUT"'
run 'ORDER=$("$YZ" get orderId <"$OUT")'
learnt ORDER
run 'curl -sS --fail-with-body "$API/orders/$ORDER" -H "$AUTH" -o "$OUT"'
run '"$YZ" pick status version acceptanceDay scheduledDate form.contractor.name <"$OUT"'
run 'curl -sS --fail-with-body "$API/orders?status=received&type=new" -H "$AUTH" | "$YZ" get "items.*.orderId"'

step "5. Amend it, with the version read"
run 'VERSION=$("$YZ" get version <"$OUT")'
learnt VERSION
run '"$YZ" set customerRemarks=開通案内はメールでお願いします。 <"$WORK/order.json" >"$WORK/amended.json"'
run 'curl -sS --fail-with-body -X PUT "$API/orders/$ORDER" -H "$AUTH" -H "If-Match: \"$VERSION\"" -H "Content-Type: application/json" --data-binary @"$WORK/amended.json" -o "$OUT"'
run '"$YZ" pick status version form.customerRemarks <"$OUT"'

step "6. Accept it (back-dated to the day the paper form came)"
run 'VERSION=$("$YZ" get version <"$OUT")'
run '"$YZ" json acceptedAt="$ACCEPTED_AT" | curl -sS --fail-with-body "$API/orders/$ORDER/accept" -H "$AUTH" -H "If-Match: \"$VERSION\"" -H "Content-Type: application/json" --data-binary @- -o "$OUT"'
run '"$YZ" pick status customerNumber acceptanceDay earliestDate scheduledDate noticeDue <"$OUT"'
run 'CN=$("$YZ" get customerNumber <"$OUT")'
learnt CN

step "7. The opening notice and completion"
run 'curl -sS --fail-with-body -X POST "$API/orders/$ORDER/notice" -H "$AUTH" | "$YZ" pick status noticeDue'
run 'curl -sS --fail-with-body -X POST "$API/orders/$ORDER/complete" -H "$AUTH" -o "$OUT"'
run '"$YZ" pick status scheduledDate completedOn version <"$OUT"'

step "8. The contract"
run 'curl -sS --fail-with-body "$API/contracts/$CN" -H "$AUTH" -o "$OUT"'
run '"$YZ" pick status openedOn additionalIds totalIds webFiltering ticketsPurchased contractor.name <"$OUT"'
run 'OPENED_ON=$("$YZ" get openedOn <"$OUT")'
learnt OPENED_ON
run 'curl -sS --fail-with-body --get "$API/contracts" --data-urlencode "q=大和" --data-urlencode "status=active" -H "$AUTH" | "$YZ" get "items.*.customerNumber"'

step "9. What an auditor sees"
run 'curl -sS --fail-with-body "$API/contracts/$CN/history" -H "$AUTH" | "$YZ" get "items.*.type"'
run 'curl -sS --fail-with-body --get "$API/contracts/$CN/as-of" --data-urlencode "effectiveAt=$OPENED_ON" -H "$AUTH" | "$YZ" pick status openedOn'
run 'curl -sS --get "$API/contracts/$CN/as-of" --data-urlencode "effectiveAt=$OPENED_ON" --data-urlencode "knownAt=$ACCEPTED_AT" -H "$AUTH" -w "HTTP %{http_code}\n" | tee "$OUT"'
expect_status 404
run 'curl -sS --fail-with-body "$API/audit/events?customerNumber=$CN&type=ContractViewed" -H "$AUTH" | "$YZ" get "items.*.actor"'
run 'curl -sS --fail-with-body "$API/audit/verify" -H "$AUTH"'

step "10. Billing: a price list, draft invoices"
run '"$YZ" json effectiveFrom="$MONTH_OPENED" baseMenu:=3000 healthCheckIdAddition:=200 webFiltering:=100 securityTicket:=5000 taxRate=0.10 | curl -sS --fail-with-body "$API/billing/price-lists" -H "$AUTH" -H "Content-Type: application/json" -H "Idempotency-Key: $("$YZ" uuid)" --data-binary @-'
run 'curl -sS --fail-with-body "$API/billing/invoices/$CN/$MONTH_OPENED" -H "$AUTH" | "$YZ" pick status lines.*.name subtotal tax total'
run 'curl -sS --fail-with-body "$API/billing/invoices/$CN/$MONTH_BILLED" -H "$AUTH" -o "$OUT"'
run '"$YZ" get lines <"$OUT"'
run '"$YZ" pick status subtotal tax total <"$OUT"'
run 'INVOICE_TOTAL=$("$YZ" get total <"$OUT")'

step "11. The billing system, with an API key"
run '"$YOROZU" apikey create --data "$DATA" --role billing --name billing-system | tee "$OUT"'
run 'KEY=$("$YZ" get key <"$OUT")'
run 'curl -sS --fail-with-body "$API/billing/invoices?month=$MONTH_BILLED" -H "Authorization: Bearer $KEY" | "$YZ" pick items.*.customerNumber items.*.status items.*.total'
run 'curl -sS --fail-with-body "$API/billing/feed?limit=100" -H "Authorization: Bearer $KEY" | tee "$OUT"'
run 'FEED_ITEMS=$("$YZ" get items <"$OUT")'

step "Summary"
for v in ORDER CN ACCEPTED_AT OPENED_ON MONTH_OPENED MONTH_BILLED INVOICE_TOTAL FEED_ITEMS; do
	printf '%s=%s\n' "$v" "${!v}"
done
