# tests/cluster/lib.sh: what the cluster tests (issue 23) share on top of
# tests/integration/lib.sh: the whole production shape (scripts/cluster:
# etcd, Patroni with two PostgreSQL nodes, pgBackRest, two wagepayd, HAProxy)
# started in the test's temp dir and stopped with it; the clients of lib.sh
# pointed at HAProxy; q() reading the current leader; request bodies made
# once, so that every retry sends the same bytes; and a client that retries
# until it has a decision.
#
# Source it from a test in tests/cluster/ (it sources lib.sh and t03-lib.sh).

TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/integration/lib.sh"
. "$TOP/tests/integration/t03-lib.sh"
CL="$T/cluster"
CLUSTER="$TOP/scripts/cluster"
# The daemons' clock is pinned, as in every integration test: the demo
# workers are on site from 2026-03, so sheets pay months 2026-03..2026-11.
export WAGEPAY_CLOCK=2026-12-05T10:00:00+08:00
export WAGEPAYD

cluster_cleanup() {
	[ -f "$CL/cluster.env" ] && "$CLUSTER" stop "$CL" >/dev/null 2>&1
	cleanup
}
trap cluster_cleanup EXIT

# cluster_up: the shape, up; CPORT/KPORT are HAProxy's, OPORT the first
# instance's console, PKI the cluster's.
cluster_up() {
	if [ "$(id -u)" != 0 ]; then
		echo "1..0 # SKIP needs root: PostgreSQL and Patroni run as the postgres user"
		exit 0
	fi
	mkdir -p "$CL"
	"$CLUSTER" start "$CL" >"$T/cluster.out" 2>&1 || { show_log "$T/cluster.out"; return 1; }
	. "$CL/cluster.env"
	# the operators' second factors scripts/cluster enrolled: lib.sh signs
	# in with their codes
	cp "$CL"/totp-*1 "$T/"
	PKI="$CL/pki"
	CPORT=$HA_CONTRACTOR_PORT
	KPORT=$HA_CORE_PORT
	OPORT=$W1_CONSOLE_PORT
	DBURL="host=$HOST,$HOST port=$PG1_PORT,$PG2_PORT dbname=wagepay user=wagepay passfile=$CL/wagepay.pgpass target_session_attrs=primary connect_timeout=2"
}

# q SQL: one value (or rows) from whichever node is the primary now.
q() { psql "$DBURL" -qAt -v ON_ERROR_STOP=1 -c "$1"; }
# q_node NODE SQL: the same on one node, primary or standby.
q_node() {
	eval "port=\$$(echo "$1" | tr a-z A-Z)_PORT"
	psql "host=$HOST port=$port dbname=wagepay user=wagepay passfile=$CL/wagepay.pgpass" -qAt -c "$2"
}
leader() { "$CLUSTER" leader "$CL"; }

# seed_world ROSTER: the demo project opened, ROSTER workers, a large deposit.
seed_world() {
	open_project && roster_demo "$1" && deposit DEP-0 100000000.00 >/dev/null && [ "$(status)" = 200 ]
}

# make_sheet I FILE: sheet CL-I pays 3 demo workers of subcontractor one
# their WAGE of month I % 9 (2026-03..11), group I / 9: every sheet is
# payable, and a second payment of a line would be a visible AM05.
make_sheet() {
	python3 "$TOOLS/mksheet" --demo 3 --demo-from $(( $1 / 9 * 3 )) --sub "$SUB1_USCC" \
	    --month "$(printf '2026-%02d' $(( $1 % 9 + 3 )))" --msg-id "CL-$1" --account "$ACCOUNT" >"$2.u" &&
	    "$TOOLS/sign-xml" "$PKI/sub1.key" "$PKI/sub1.pem" "$2.u" "$2"
}
# make_sheets FROM TO DIR: CL-FROM..CL-(TO-1), two at a time
make_sheets() {
	mkdir -p "$3"
	_i=$1
	while [ $_i -lt $2 ]; do
		make_sheet $_i "$3/s$_i.xml" & _a=$!
		_b=
		[ $((_i + 1)) -lt $2 ] && { make_sheet $((_i + 1)) "$3/s$((_i + 1)).xml" & _b=$!; }
		wait $_a $_b
		_i=$((_i + 2))
	done
}

# deposit_xml REF AMOUNT FILE: a camt.054 deposit from the owner.
deposit_xml() {
	cat >"$3" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>N-$1</MsgId><CreDtTm>2026-11-05T09:00:00+08:00</CreDtTm></GrpHdr>
<Ntfctn><Id>NTF-$1</Id><CreDtTm>2026-11-05T09:00:00+08:00</CreDtTm>
<Acct><Id><Othr><Id>$ACCOUNT</Id></Othr></Id></Acct>
<Ntry><NtryRef>$1</NtryRef><Amt Ccy="CNY">$2</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2026-11-05</Dt></BookgDt><BkTxCd><Prtry><Cd>DEPOSIT</Cd></Prtry></BkTxCd>
<NtryDtls><TxDtls><RltdPties><Dbtr><Pty><Nm>$OWNER_NAME</Nm><Id><OrgId><Othr><Id>$OWNER_USCC</Id></Othr></OrgId></Id></Pty></Dbtr></RltdPties></TxDtls></NtryDtls>
</Ntry></Ntfctn></BkToCstmrDbtCdtNtfctn></Document>
EOF
}

# return_xml REF E2E AMOUNT FILE: the core says a wage payment came back.
return_xml() {
	cat >"$4" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>N-$1</MsgId><CreDtTm>2026-11-06T09:00:00+08:00</CreDtTm></GrpHdr>
<Ntfctn><Id>NTF-$1</Id><CreDtTm>2026-11-06T09:00:00+08:00</CreDtTm>
<Acct><Id><Othr><Id>$ACCOUNT</Id></Othr></Id></Acct>
<Ntry><NtryRef>$1</NtryRef><Amt Ccy="CNY">$3</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2026-11-06</Dt></BookgDt><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>RRTN</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><TxDtls><Refs><EndToEndId>$2</EndToEndId></Refs><RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf></TxDtls></NtryDtls>
</Ntry></Ntfctn></BkToCstmrDbtCdtNtfctn></Document>
EOF
}

# post_until_decided WHO PATH FILE OUT [TRIES]: POSTs the same bytes through
# HAProxy until the answer is a decision (HTTP 200), 0.2 s between tries
# (default 400 tries: the longest failover seen is well inside), each
# allowed 40 s, more than the daemon's 30 s deadline for a request that
# waits for a database connection, so that each try gets its answer; WHO is
# contractor (CPORT) or core (KPORT). OUT.code keeps the codes seen, one a
# try, so that a test can count the 503s; OUT.retry the Retry-After header
# of each 503.
post_until_decided() {
	case $1 in
	contractor) _port=$CPORT; _id=contractor;;
	core) _port=$KPORT; _id=core;;
	esac
	_n=${5:-400}
	while [ "$_n" -gt 0 ]; do
		_code=$(curl -s -o "$4" -D "$4.h" -w '%{http_code}' --max-time 40 --cacert "$PKI/ca.pem" \
		    --cert "$PKI/$_id.pem" --key "$PKI/$_id.key" -H 'Content-Type: application/xml' \
		    --data-binary @"$3" "https://127.0.0.1:$_port$2" 2>/dev/null)
		echo "$_code" >>"$4.code"
		[ "$_code" = 503 ] && grep -i '^Retry-After:' "$4.h" >>"$4.retry"
		[ "$_code" = 200 ] && return 0
		sleep 0.2
		_n=$((_n - 1))
	done
	return 1
}

# chains_verify: every audit chain verifies on the primary.
chains_verify() { [ "$(q 'SELECT ok FROM wp_audit_verify()')" = t ]; }

# now_s: seconds since the epoch, with fractions.
now_s() { date +%s.%N; }
secs() { python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
