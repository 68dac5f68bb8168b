# wagepay: one non-recursive GNU Makefile. `make` builds build/wagepayd.
# `make run` starts it on a local database with demo data; `make test` runs
# every test. Both install the Debian packages they need first (`make deps`).

CC       ?= gcc
PKGS     := libevent libevent_openssl libevent_pthreads openssl libpq libxml-2.0 \
            xmlsec1 xmlsec1-openssl jansson libsystemd liboath libqrencode
# -Wcast-qual is left out: libxml2's BAD_CAST idiom casts const away by design.
WARN     := -Wall -Wextra -Werror -Wshadow -Wpointer-arith \
            -Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations \
            -Wsign-compare -Wformat=2 -Wformat-security -Wundef -Wvla
OPT      ?= -O2 -g
SAN      ?=
CFLAGS   := -std=c17 $(OPT) $(SAN) $(WARN) -D_GNU_SOURCE -MMD -MP -Iinclude \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
LDFLAGS  := $(SAN)

B        ?= build
PROTO_SRC  := $(wildcard proto/*.c)
DAEMON_SRC := $(wildcard daemon/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
TOOL_SRC   := $(wildcard tests/tools/*.c)
# wagepay-sheet, the contractor's tool (tools/sheet/, man page beside it)
SHEET_SRC  := $(wildcard tools/sheet/*.c)
SHEET_OBJ  := $(SHEET_SRC:%.c=$(B)/%.o)
# what the unit tests link of it (tests/unit/test_sheettool.c): all but main
SHEET_LIB  := $(filter-out $(B)/tools/sheet/main.o,$(SHEET_OBJ))
XSD        := $(wildcard proto/xsd/*.xsd) $(wildcard proto/iso20022/*.xsd)
PAGE       := $(wildcard daemon/console/*.html daemon/console/*.js daemon/console/*.css)

PROTO_OBJ  := $(PROTO_SRC:%.c=$(B)/%.o) $(B)/proto/schemas_blob.o
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(B)/%.o) $(B)/daemon/console/blob.o $(B)/schema/schema_blob.o
# The schema, compiled in: the migrations in order, then the functions files.
SCHEMA_SQL := $(sort $(wildcard schema/migrations/*.sql)) $(sort $(wildcard schema/functions/*.sql))
# The daemon modules the unit tests link: the few under test, never main.c
# (nor the handlers, which need the process context main.c owns).
DAEMON_LIB := $(B)/daemon/db.o $(B)/daemon/dblease.o $(B)/daemon/dbdsn.o $(B)/daemon/log.o $(B)/daemon/util.o
# Test code shared by the unit tests and the fuzz targets.
TEST_COMMON := $(B)/tests/common/tree_verdict.o
UNIT_OBJ   := $(UNIT_SRC:%.c=$(B)/%.o) $(B)/tests/unit/runner.o \
              $(B)/tests/unit/pgharness.o $(TEST_COMMON)
TOOLS      := $(TOOL_SRC:tests/tools/%.c=$(B)/%)
# Fuzz targets, built here as replay drivers (tests/fuzz/replay in make test)
# and by tests/fuzz/run under libFuzzer (make fuzz).
FUZZ       := sheet roster camt054 config corereq corestmt
FUZZ_REPLAY := $(FUZZ:%=$(B)/fuzz-%)

DEPS_STAMP := $(B)/.deps-ok
DEB_PKGS   := valgrind build-essential pkg-config libevent-dev libssl-dev libpq-dev \
              libxml2-dev libxml2-utils libxmlsec1-dev libxmlsec1-openssl xmlsec1 \
              libjansson-dev libsystemd-dev postgresql-15 postgresql-client-15 \
              curl openssl perl python3 ca-certificates procps \
              chromium fonts-noto-cjk nodejs \
              postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl \
              etcd-server etcd-client patroni haproxy pgbackrest \
              liboath-dev libqrencode-dev mandoc

.PHONY: install uninstall cluster test-cluster test-cluster-long all deps run test test-asan asan valgrind unit integration sqltest browser bench bench-quick fuzz torture \
        clean check-style asan
all: check-style $(B)/wagepayd $(B)/unit $(TOOLS) $(FUZZ_REPLAY) $(B)/wagepay-sheet

# Installs what is missing, with apt-get update first; a no-op when all is there.
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "deps: need root to install:$$missing" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# What STYLE.md asks that a machine can check (scripts/check-style says
# what): export prefix = file name, proto/ purity (no sockets, no libevent,
# no libpq), no circles between files, files and functions not too long.
check-style:
	@scripts/check-style

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# The schemas are compiled into the binary so that a deployed daemon does not
# depend on files beside it.
$(B)/proto/schemas_blob.o: proto/schemas_blob.S $(XSD)
	@mkdir -p $(dir $@)
	$(CC) -c -o $@ $<

# The console's page likewise: the daemon serves the page it was built with.
$(B)/daemon/console/blob.o: daemon/console/blob.S $(PAGE)
	@mkdir -p $(dir $@)
	$(CC) -c -o $@ $<

# The database schema likewise: --migrate applies the schema the binary
# carries, and the daemon checks the database against it (daemon/migrate.c).
$(B)/schema/schema_blob.S: scripts/schema-blob $(SCHEMA_SQL) Makefile
	@mkdir -p $(dir $@)
	scripts/schema-blob $(SCHEMA_SQL) >$@.tmp && mv $@.tmp $@

$(B)/schema/schema_blob.o: $(B)/schema/schema_blob.S
	$(CC) -c -o $@ $<

$(B)/wagepayd: $(DAEMON_OBJ) $(PROTO_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/wagepay-sheet: $(SHEET_OBJ) $(PROTO_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/unit/groups.h: $(UNIT_SRC)
	@mkdir -p $(dir $@)
	@for f in $(UNIT_SRC); do n=$$(basename $$f .c); n=$${n#test_}; echo "UNIT_GROUP($$n)"; done > $@.tmp && mv $@.tmp $@

$(B)/tests/unit/runner.o: tests/unit/runner.c $(B)/tests/unit/groups.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I$(B)/tests/unit -c -o $@ $<

$(B)/tests/unit/test_sheettool.o: CFLAGS += -Itools/sheet

$(B)/unit: $(UNIT_OBJ) $(PROTO_OBJ) $(DAEMON_LIB) $(SHEET_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/fuzz-%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_main.c tests/fuzz/fuzz.h $(PROTO_OBJ) $(TEST_COMMON)
	$(CC) $(CFLAGS) -Itests/fuzz -Itests/common $(LDFLAGS) -o $@ tests/fuzz/fuzz_$*.c tests/fuzz/fuzz_main.c $(PROTO_OBJ) $(TEST_COMMON) $(LDLIBS)

$(B)/%: tests/tools/%.c $(PROTO_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(PROTO_OBJ) $(LDLIBS)

unit: deps all
	$(B)/unit

# WAGEPAY_LOG_DIR: every integration test's outputs kept there, which
# t0990 (sorting last) scans for clear ID and card numbers (issue 22).
integration: deps all
	rm -rf $(B)/idscan && WAGEPAY_LOG_DIR=$(CURDIR)/$(B)/idscan prove -v tests/integration/*.t

# pgTAP tests of the money functions where they live (tests/sql/run: its own
# PostgreSQL, the schema by the daemon's --migrate, pg_prove).
sqltest: deps all
	tests/sql/run

test: deps all
	tests/style/run
	$(B)/unit
	B=$(B) tests/fuzz/replay
	rm -rf $(B)/idscan && WAGEPAY_LOG_DIR=$(CURDIR)/$(B)/idscan prove tests/integration/*.t
	tests/sql/run
	prove tests/cluster/*.t
	@if ls tests/browser/*.test.mjs >/dev/null 2>&1; then $(MAKE) --no-print-directory browser; fi
	$(MAKE) --no-print-directory test-asan
	tests/valgrind/run

browser: deps all
	tests/browser/run

# The suites again on an ASan+UBSan build in build-asan/. A memory error
# aborts the daemon (tests fail); a leak makes its clean SIGTERM exit
# non-zero, which t0150 checks.
asan:
	$(MAKE) B=build-asan OPT="-O1 -g -fno-omit-frame-pointer" SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" all

test-asan: deps asan
	build-asan/unit
	B=build-asan tests/fuzz/replay
	rm -rf build-asan/idscan && WAGEPAY_LOG_DIR=$(CURDIR)/build-asan/idscan \
	    WAGEPAYD=$(CURDIR)/build-asan/wagepayd CYCLES=10 prove tests/integration/*.t

run: deps all
	scripts/run-dev

# make install (issue 24): the two programs, the three man pages, the
# systemd unit and the annotated example configuration, under DESTDIR for
# a package. SYSCONFDIR is /etc, not $(PREFIX)/etc: the unit, the man
# pages and README name /etc/wagepay (another SYSCONFDIR, the unit dir and
# SBINDIR are written into the unit, the pages and the example as they are
# installed). The real configuration, wagepayd.conf, is never installed,
# so never overwritten; uninstall leaves it too.
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
# systemd reads units from /usr/local/lib/systemd/system as from /usr/lib/...
UNITDIR    ?= $(PREFIX)/lib/systemd/system
INSTALLED  := $(SBINDIR)/wagepayd $(BINDIR)/wagepay-sheet \
              $(MANDIR)/man8/wagepayd.8 $(MANDIR)/man5/wagepayd.conf.5 \
              $(MANDIR)/man1/wagepay-sheet.1 $(UNITDIR)/wagepayd.service \
              $(SYSCONFDIR)/wagepay/wagepayd.conf.example
# the paths the shipped files name, rewritten to where they go
PLACE      := sed -e 's|/usr/sbin/wagepayd|$(SBINDIR)/wagepayd|g' \
                  -e 's|/etc/wagepay|$(SYSCONFDIR)/wagepay|g' \
                  -e 's|/lib/systemd/system/|$(UNITDIR)/|g'

# the pages, unit and example with their paths rewritten, made afresh at
# each install (the paths are the command line's), then installed
install: $(B)/wagepayd $(B)/wagepay-sheet
	@mkdir -p $(B)/install
	$(PLACE) docs/man/wagepayd.8 >$(B)/install/wagepayd.8
	$(PLACE) docs/man/wagepayd.conf.5 >$(B)/install/wagepayd.conf.5
	$(PLACE) tools/sheet/wagepay-sheet.1 >$(B)/install/wagepay-sheet.1
	$(PLACE) config/wagepayd.service >$(B)/install/wagepayd.service
	$(PLACE) config/wagepayd.conf.example >$(B)/install/wagepayd.conf.example
	install -D -m 755 $(B)/wagepayd $(DESTDIR)$(SBINDIR)/wagepayd
	install -D -m 755 $(B)/wagepay-sheet $(DESTDIR)$(BINDIR)/wagepay-sheet
	install -D -m 644 $(B)/install/wagepayd.8 $(DESTDIR)$(MANDIR)/man8/wagepayd.8
	install -D -m 644 $(B)/install/wagepayd.conf.5 $(DESTDIR)$(MANDIR)/man5/wagepayd.conf.5
	install -D -m 644 $(B)/install/wagepay-sheet.1 $(DESTDIR)$(MANDIR)/man1/wagepay-sheet.1
	install -D -m 644 $(B)/install/wagepayd.service $(DESTDIR)$(UNITDIR)/wagepayd.service
	install -D -m 644 $(B)/install/wagepayd.conf.example \
	    $(DESTDIR)$(SYSCONFDIR)/wagepay/wagepayd.conf.example

uninstall:
	rm -f $(INSTALLED:%=$(DESTDIR)%)
	-rmdir $(DESTDIR)$(SYSCONFDIR)/wagepay 2>/dev/null

# The production shape on loopback (issue 23, config/cluster/): etcd, two
# PostgreSQL nodes under Patroni (synchronous), WAL archived by pgBackRest,
# two wagepayd behind HAProxy. Prints the addresses; Ctrl-C stops it all.
cluster: deps all
	scripts/cluster run

# The tests on that shape (tests/cluster/): failover (one round of each kind
# here and in make test), point-in-time restore, a full WAL disk.
test-cluster: deps all
	prove -v tests/cluster/*.t

# The failover rounds again and again (ROUNDS of each kind, default 10).
test-cluster-long: deps all
	ROUNDS=$${ROUNDS:-10} prove -v tests/cluster/t0900-failover.t

# The benchmark's own programs (see tests/bench/RESULTS.md): the C
# load generator, and the data generator that also links proto/ to price
# each stage of a sheet.
BENCH_TOOLS := $(B)/bench/loadgen $(B)/bench/gen

$(B)/bench/loadgen: tests/bench/loadgen.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

GEN_SRC    := $(wildcard tests/bench/gen*.c)
$(B)/bench/gen: $(GEN_SRC) tests/bench/gen.h $(PROTO_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(GEN_SRC) $(PROTO_OBJ) $(LDLIBS) -lm

bench: deps all $(BENCH_TOOLS)
	tests/bench/run

bench-quick: deps all $(BENCH_TOOLS)
	QUICK=1 tests/bench/run

# libFuzzer needs clang and its runtime; installed here, not for make test.
fuzz: deps
	@$(MAKE) --no-print-directory deps DEB_PKGS="clang libclang-rt-14-dev"
	tests/fuzz/run

valgrind: deps all
	tests/valgrind/run

# The crash torture test alone, with many cycles (make test runs 50).
torture: deps all
	CYCLES=$${CYCLES:-1000} prove -v tests/integration/t0600-torture.t

clean:
	rm -rf build build-asan

-include $(shell find $(B) -name '*.d' 2>/dev/null)
