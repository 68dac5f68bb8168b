#!/bin/sh
# The manual and make install (issue 24): wagepayd(8), wagepayd.conf(5) and
# wagepay-sheet(1) pass mandoc's lint with no warning; the conf page names
# every section and key proto/config.c accepts, wagepayd(8) every option
# daemon/main.c accepts, wagepay-sheet(1) every option of tools/sheet/main.c
# and every command and CSV column of API.md (each list read from the
# source, so a page cannot fall behind it). make install DESTDIR= puts the
# programs, pages, unit and example where they belong, with the installed
# paths written into them; never over a real configuration; the installed
# pages render, the installed daemon runs; make uninstall takes it away.
. "$(dirname "$0")/lib.sh"

PAGES="docs/man/wagepayd.8 docs/man/wagepayd.conf.5 tools/sheet/wagepay-sheet.1"
if ! command -v mandoc >/dev/null 2>&1; then
	echo "Bail out! mandoc is not installed (make deps)"; exit 1
fi

# --- lint --------------------------------------------------------------------
for p in $PAGES; do
	mandoc -T lint -W warning "$TOP/$p" >"$T/lint" 2>&1
	rc=$?
	check_eq "mandoc -T lint -W warning $p: exit 0" "$rc" 0
	check_eq "mandoc -T lint -W warning $p: nothing said" "$(cat "$T/lint")" ""
done

# ic_words PAGE: every word given to Ic (keys, sections) in the page;
# fl_words PAGE: every word right after an Fl (options, without the -).
ic_words() { python3 - "$1" <<'PY'
import re, sys
out = set()
for l in open(sys.argv[1], encoding='utf-8'):
    if not l.startswith('.'):
        continue
    t = l.split()
    for i, w in enumerate(t):
        if w == 'Ic':
            for x in t[i + 1:]:
                if re.fullmatch(r'[A-Z][a-z][a-z]?', x):
                    break
                out.add(x.strip(','))
print('\n'.join(sorted(out)))
PY
}
fl_words() { python3 - "$1" <<'PY'
import re, sys
out = set()
for l in open(sys.argv[1], encoding='utf-8'):
    if l.startswith('.'):
        out.update(re.findall(r'\bFl (\S+)', l))
print('\n'.join(sorted(out)))
PY
}
# missing WANTED HAVE: the lines of file WANTED not in file HAVE
missing() { sort -u "$1" | comm -23 - "$(sort -u "$2" >"$2.s"; echo "$2.s")" | tr '\n' ' '; }

# --- wagepayd.conf(5): the keys and sections of proto/config.c -------------
ic_words "$TOP/docs/man/wagepayd.conf.5" >"$T/conf.ic"
grep -o 'strcmp(key, "[a-z_]*")' "$TOP/proto/config.c" | sed 's/.*"\(.*\)".*/\1/' | sort -u >"$T/keys"
grep -o 'strcmp(name, "[a-z]*")' "$TOP/proto/config.c" | sed 's/.*"\(.*\)".*/[\1]/' >"$T/sections"
grep -o 'strncmp(name, "[a-z]*", [0-9]*)' "$TOP/proto/config.c" | sed 's/.*"\(.*\)".*/[\1/' >>"$T/sections"
check "proto/config.c: the key list was read ($(wc -l <"$T/keys") keys)" test "$(wc -l <"$T/keys")" -ge 30
check "proto/config.c: the section list was read ($(wc -l <"$T/sections") sections)" test "$(wc -l <"$T/sections")" -eq 10
check_eq "wagepayd.conf(5) names every key proto/config.c accepts" "$(missing "$T/keys" "$T/conf.ic")" ""
check_eq "wagepayd.conf(5) names every section" "$(missing "$T/sections" "$T/conf.ic")" ""
# and every key the annotated example sets (commented or not)
sed -n 's/^#\{0,1\}\([a-z_]*\) = .*/\1/p' "$TOP/config/wagepayd.conf.example" | sort -u >"$T/example.keys"
check_eq "wagepayd.conf(5) names every key of the example" "$(missing "$T/example.keys" "$T/conf.ic")" ""
check "wagepayd.conf(5) gives the defaults (connections 4)" \
    grep -q 'default 4: the size of the connection pool' "$TOP/docs/man/wagepayd.conf.5"

# --- wagepayd(8): the options of daemon/main.c ---------------------------------
fl_words "$TOP/docs/man/wagepayd.8" >"$T/d.fl"
python3 - "$TOP/daemon/main.c" >"$T/opts" <<'PY'
import re, sys
src = open(sys.argv[1]).read()
short = re.search(r'getopt_long\(argc, argv, "([^"]+)"', src).group(1)
for c in short.replace(':', ''):
    print(c)
for name in re.findall(r'\{ "([a-z-]+)", (?:no|required|optional)_argument', src):
    print('-' + name)
PY
check "daemon/main.c: the option list was read ($(wc -l <"$T/opts") options)" test "$(wc -l <"$T/opts")" -ge 9
check_eq "wagepayd(8) names every option daemon/main.c accepts" "$(missing "$T/opts" "$T/d.fl")" ""
for s in SIGHUP SIGTERM; do
	check "wagepayd(8) describes $s" grep -q "^\.It Dv $s" "$TOP/docs/man/wagepayd.8"
done
for s in SYNOPSIS SIGNALS ENVIRONMENT FILES "EXIT STATUS" EXAMPLES "SEE ALSO"; do
	check "wagepayd(8) has $s" grep -qx "\.Sh $s" "$TOP/docs/man/wagepayd.8"
done
grep -rhoE 'getenv\("[A-Z_]+"\)|util_env_int\("[A-Z_]+"' "$TOP/daemon" | grep -o 'WAGEPAY_[A-Z_]*' | sort -u >"$T/env"
grep -o 'Ev WAGEPAY_[A-Z_]*' "$TOP/docs/man/wagepayd.8" | cut -c4- >"$T/d.env"
check_eq "wagepayd(8) names every WAGEPAY_ variable the daemon reads" "$(missing "$T/env" "$T/d.env")" ""

# --- wagepay-sheet(1): tools/sheet/main.c and API.md ---------------------------
fl_words "$TOP/tools/sheet/wagepay-sheet.1" >"$T/s.fl"
grep -o '{ "[a-z0-9-]*", *[a-z_]*argument' "$TOP/tools/sheet/main.c" | sed 's/{ "\([^"]*\)".*/-\1/' >"$T/s.opts"
check "tools/sheet/main.c: the option list was read" test "$(wc -l <"$T/s.opts")" -ge 10
check_eq "wagepay-sheet(1) names every option of tools/sheet/main.c" "$(missing "$T/s.opts" "$T/s.fl")" ""
API=$TOP/../shared/API.md
[ -f "$API" ] || API=/work/shared/API.md
if [ -f "$API" ]; then
	sed -n '/^## The contractor.s tool/,/^## /p' "$API" >"$T/api.sheet"
	grep -o '^wagepay-sheet [a-z|]*' "$T/api.sheet" | cut -d' ' -f2 | tr '|' '\n' | sort -u >"$T/api.cmds"
	grep -o 'Cm [a-z| ]*' "$TOP/tools/sheet/wagepay-sheet.1" | cut -c4- | tr ' |' '\n\n' | sed '/^$/d' | sort -u >"$T/s.cmds"
	check_eq "wagepay-sheet(1) has API.md's commands ($(tr '\n' ' ' <"$T/api.cmds"))" "$(missing "$T/api.cmds" "$T/s.cmds")" ""
	grep -o '\-\-[a-z0-9-]*' "$T/api.sheet" | cut -c2- | sort -u >"$T/api.opts"
	check_eq "wagepay-sheet(1) has API.md's options" "$(missing "$T/api.opts" "$T/s.fl")" ""
	tr '(),' '\n\n\n' <"$T/api.sheet" | sed -n 's/^ *\([a-z_]*\|[^ -~]*\) *$/\1/p' | grep -v '^$' |
	    grep -vx 'or' | sort -u >"$T/api.cols"
	grep -o '^\.It [^ ]* Ta [a-z_]*' "$TOP/tools/sheet/wagepay-sheet.1" | awk '{print $2; print $4}' >"$T/s.cols"
	check "API.md: the CSV columns were read ($(wc -l <"$T/api.cols"))" test "$(wc -l <"$T/api.cols")" -eq 20
	check_eq "wagepay-sheet(1) names every CSV column of API.md" "$(missing "$T/api.cols" "$T/s.cols")" ""
	for st in 0 2 3 4 1; do
		check "wagepay-sheet(1) gives exit status $st" grep -qx "\.It $st" "$TOP/tools/sheet/wagepay-sheet.1"
	done
else
	ok "# SKIP API.md is not beside the tree"
fi

# --- make install --------------------------------------------------------------
R=$T/root
mkdir -p "$R/etc/wagepay"
echo '# the bank'"'"'s own' >"$R/etc/wagepay/wagepayd.conf"
make -s -C "$TOP" install DESTDIR="$R" >"$T/install.log" 2>&1
check_eq "make install DESTDIR=: exit 0" "$?" 0
show_log "$T/install.log"
mode() { stat -c %a "$R$1" 2>/dev/null; }
check_eq "sbin/wagepayd, 755" "$(mode /usr/local/sbin/wagepayd)" 755
check_eq "bin/wagepay-sheet, 755" "$(mode /usr/local/bin/wagepay-sheet)" 755
check_eq "man8/wagepayd.8, 644" "$(mode /usr/local/share/man/man8/wagepayd.8)" 644
check_eq "man5/wagepayd.conf.5, 644" "$(mode /usr/local/share/man/man5/wagepayd.conf.5)" 644
check_eq "man1/wagepay-sheet.1, 644" "$(mode /usr/local/share/man/man1/wagepay-sheet.1)" 644
check_eq "the systemd unit, 644" "$(mode /usr/local/lib/systemd/system/wagepayd.service)" 644
check_eq "the example configuration, 644" "$(mode /etc/wagepay/wagepayd.conf.example)" 644
check_eq "the real configuration is left as it was" "$(cat "$R/etc/wagepay/wagepayd.conf")" "# the bank's own"
check_eq "nothing else installed" "$(cd "$R" && find . -type f | sort | tr '\n' ' ')" \
    "./etc/wagepay/wagepayd.conf ./etc/wagepay/wagepayd.conf.example ./usr/local/bin/wagepay-sheet ./usr/local/lib/systemd/system/wagepayd.service ./usr/local/sbin/wagepayd ./usr/local/share/man/man1/wagepay-sheet.1 ./usr/local/share/man/man5/wagepayd.conf.5 ./usr/local/share/man/man8/wagepayd.8 "
UNIT=$R/usr/local/lib/systemd/system/wagepayd.service
check "the unit starts the installed binary" grep -qx 'ExecStart=/usr/local/sbin/wagepayd -f /etc/wagepay/wagepayd.conf' "$UNIT"
check "the unit checks with it first" grep -qx 'ExecStartPre=/usr/local/sbin/wagepayd -f /etc/wagepay/wagepayd.conf -n' "$UNIT"
check "the unit names no other wagepayd" sh -c "! grep -q '/usr/sbin/wagepayd' '$UNIT'"
check "the installed example is the tree's" cmp -s "$TOP/config/wagepayd.conf.example" "$R/etc/wagepay/wagepayd.conf.example"
if command -v systemd-analyze >/dev/null 2>&1; then
	sed "s#/usr/local/sbin/wagepayd#$R/usr/local/sbin/wagepayd#g" "$UNIT" >"$T/wagepayd.service"
	check "systemd-analyze verify accepts the installed unit" systemd-analyze verify "$T/wagepayd.service"
fi

# the installed pages render
for p in man8/wagepayd.8 man5/wagepayd.conf.5 man1/wagepay-sheet.1; do
	f=$R/usr/local/share/man/$p
	mandoc -T lint -W warning "$f" >"$T/lint" 2>&1
	check_eq "installed $p: mandoc -T lint, nothing said" "$?:$(cat "$T/lint")" "0:"
	MANPAGER=cat MANWIDTH=80 man -l "$f" >"$T/man.txt" 2>"$T/man.err"
	check_eq "installed $p: man -l renders it" "$?" 0
	n=$(basename "$p"); n=${n%.*}
	check "installed $p: its NAME section" grep -q "^ *$n [-—] " "$T/man.txt"
done
MANPAGER=cat man -l "$R/usr/local/share/man/man8/wagepayd.8" >"$T/man8.txt" 2>/dev/null
check "wagepayd(8) as installed names the installed unit" grep -q '/usr/local/lib/systemd/system/wagepayd.service' "$T/man8.txt"

# the installed programs run
"$R/usr/local/sbin/wagepayd" --help >"$T/help" 2>"$T/help.err"
check_eq "installed wagepayd --help: exit 0" "$?" 0
check "--help: the synopsis on standard output" grep -q '^usage: wagepayd -f FILE' "$T/help"
"$R/usr/local/sbin/wagepayd" -h >"$T/help2" 2>&1
check_eq "-h: the same" "$(cat "$T/help2")" "$(cat "$T/help")"
"$R/usr/local/sbin/wagepayd" --no-such-option >/dev/null 2>"$T/bad"
check_eq "a wrong option: exit 1" "$?" 1
check "a wrong option: the synopsis on standard error" grep -q '^usage: wagepayd' "$T/bad"
# the example parses whole (every section, every key); -n then stops at its
# first certificate, which is the bank's to make
"$R/usr/local/sbin/wagepayd" -f "$R/etc/wagepay/wagepayd.conf.example" -n >"$T/n.out" 2>"$T/n.err"
check_eq "installed wagepayd -n on the installed example: exit 1 (no certificates here)" "$?" 1
check "-n: the example's syntax and keys passed (no FILE:LINE error)" \
    sh -c "! grep -q 'wagepayd.conf.example:[0-9]' '$T/n.err'"
check "-n: it stopped at the first certificate, under /etc/wagepay" \
    grep -q 'could not load certificate "/etc/wagepay/tls/server.pem"' "$T/n.err"
"$R/usr/local/bin/wagepay-sheet" >/dev/null 2>"$T/ws.err"
check "installed wagepay-sheet runs (its usage)" grep -q '^usage: wagepay-sheet make' "$T/ws.err"

# another place: PREFIX, SYSCONFDIR, UNITDIR written into what names them
R2=$T/root2
make -s -C "$TOP" install DESTDIR="$R2" PREFIX=/opt/wagepay SYSCONFDIR=/opt/wagepay/etc \
    UNITDIR=/etc/systemd/system >"$T/install2.log" 2>&1
check_eq "make install PREFIX= SYSCONFDIR= UNITDIR=: exit 0" "$?" 0
check "the unit where UNITDIR says" test -f "$R2/etc/systemd/system/wagepayd.service"
check "its ExecStart: PREFIX's binary, SYSCONFDIR's configuration" grep -qx \
    'ExecStart=/opt/wagepay/sbin/wagepayd -f /opt/wagepay/etc/wagepay/wagepayd.conf' "$R2/etc/systemd/system/wagepayd.service"
check "its ReadOnlyPaths: SYSCONFDIR's" grep -qx 'ReadOnlyPaths=/opt/wagepay/etc/wagepay' "$R2/etc/systemd/system/wagepayd.service"
check "the example under SYSCONFDIR/wagepay" test -f "$R2/opt/wagepay/etc/wagepay/wagepayd.conf.example"
check "the example's paths under SYSCONFDIR" grep -q '^cert = /opt/wagepay/etc/wagepay/tls/server.pem' "$R2/opt/wagepay/etc/wagepay/wagepayd.conf.example"
check "wagepayd(8) names that configuration" grep -q '/opt/wagepay/etc/wagepay/wagepayd.conf' "$R2/opt/wagepay/share/man/man8/wagepayd.8"
check "the binaries under PREFIX" test -x "$R2/opt/wagepay/sbin/wagepayd" -a -x "$R2/opt/wagepay/bin/wagepay-sheet"

# --- make uninstall --------------------------------------------------------------
make -s -C "$TOP" uninstall DESTDIR="$R" >"$T/uninstall.log" 2>&1
check_eq "make uninstall DESTDIR=: exit 0" "$?" 0
check_eq "only the real configuration is left" "$(cd "$R" && find . -type f | tr '\n' ' ')" "./etc/wagepay/wagepayd.conf "
make -s -C "$TOP" uninstall DESTDIR="$R2" PREFIX=/opt/wagepay SYSCONFDIR=/opt/wagepay/etc \
    UNITDIR=/etc/systemd/system >/dev/null 2>&1
check_eq "uninstall with the same settings: nothing left" "$(cd "$R2" && find . -type f | wc -l)" 0
finish
