#!/bin/sh
# Hostile connections: slowloris clients that trickle a request and never
# finish it are cut off after [limits] timeout while honest clients are
# served; a 140 MB body is refused with 413 without the daemon's memory
# growing; nothing reaches the ledger.
. "$(dirname "$0")/lib.sh"

EXTRA_CONFIG='[limits]
timeout = 3'
setup_world || { echo "Bail out! setup failed"; exit 1; }
open_project && roster_demo 10 && deposit DEP-0 10000.00 >/dev/null || { echo "Bail out! seed failed"; exit 1; }
line E1 0 1000.00 >"$T/l1"
sheet good --msg-id GOOD-1 --sub "$SUB1_USCC" --month 2026-10 <"$T/l1"

rss() { ps -o rss= -p "$DAEMON_PID" | tr -d ' '; }
rss_before=$(rss)

# --- slowloris: 40 TLS connections each sending a header line a second -----
python3 - "$CPORT" "$PKI" >"$T/slow.out" 2>&1 <<'EOF' &
import socket, ssl, sys, time
port, pki = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=pki + "/ca.pem")
ctx.load_cert_chain(pki + "/contractor.pem", pki + "/contractor.key")
conns = []
for i in range(40):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=2),
                        server_hostname="localhost")
    s.sendall(b"POST /v1/sheets HTTP/1.1\r\nHost: localhost\r\n")
    conns.append(s)
closed_at = {}
start = time.time()
while time.time() - start < 12 and len(closed_at) < len(conns):
    for i, s in enumerate(conns):
        if i in closed_at:
            continue
        try:
            s.sendall(b"X-Slow: %d\r\n" % i)
            s.settimeout(0.01)
            if s.recv(1024) == b"":
                closed_at[i] = time.time() - start
        except (ssl.SSLError, OSError, socket.timeout) as e:
            if not isinstance(e, socket.timeout):
                closed_at[i] = time.time() - start
    time.sleep(1)
print("closed", len(closed_at), "of", len(conns),
      "latest after %.1f s" % max(closed_at.values(), default=99))
EOF
slow=$!
sleep 1
submit good
check_eq "while 40 slowloris connections hang on, an honest sheet is paid" "$(grpsts "$T/good.pain002.xml")" ACSC
wait $slow
diag "$(cat "$T/slow.out")"
check "every slowloris connection was cut off" grep -q '^closed 40 of 40' "$T/slow.out"
latest=$(sed -n 's/.*latest after \([0-9]*\)\..*/\1/p' "$T/slow.out")
check "cut off within the timeout (3 s) plus a little, though it kept sending" [ "${latest:-99}" -le 8 ]

# --- a 140 MB body: over body_bytes (128 MiB by default) ------------------------
head -c 146800640 /dev/zero >"$T/huge.xml"
code=$(curl -sk -o /dev/null -w '%{http_code}' --cert "$PKI/contractor.pem" --key "$PKI/contractor.key" \
    --data-binary @"$T/huge.xml" "https://127.0.0.1:$CPORT/v1/sheets")
rm -f "$T/huge.xml"
check_eq "a 140 MB body: 413" "$code" 413
check "the daemon did not buffer it: RSS grew by less than 64 MB" [ $(( $(rss) - rss_before )) -lt 65536 ]
diag "daemon RSS before $rss_before kB, after $(rss) kB"
check "the daemon still serves" sh -c "curl -sk -o /dev/null -w '%{http_code}' https://127.0.0.1:$OPORT/healthz | grep -q 200"
check_eq "only the honest sheet is in the ledger" "$(q "SELECT count(*) FROM transfer WHERE reason = 'WAGE'")" 1
ledger_exact
finish
