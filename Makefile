# hadrdb build. Everything lands in build/ (normal) and build/asan/ (ASan+UBSan).
#   make            build/hadrd and the engine library
#   make test       install deps, build both variants, run unit tests (both) and the crash test
#   make run        build and start the server on the defaults
#   make crashtest ITER=N   kill-and-recover cycles of the transfer workload
#   make bench-engine       durable commits/s vs SQLite
#   make bench              every benchmark (bench-tpcb, -select, -recovery, -server vs PostgreSQL)
#   make bench-backup       full BACKUP / RESTORE of a 1 GB database vs the disk (dd) and pg_basebackup
#   make bench-marks        a mark every second: cross-database throughput, the stall each mark causes

CC      ?= cc
CSTD    := -std=gnu11
WARN    := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS  ?= -O2 -g
CPPFLAGS:= -Isrc -D_GNU_SOURCE
LDLIBS  := -lpthread -lm -lzstd
ASANFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

LIB_SRC := $(sort $(wildcard src/util/*.c src/os/*.c src/storage/*.c src/log/*.c \
                             src/txn/*.c src/access/*.c src/engine/*.c src/backup/*.c \
                             src/tds/*.c src/sql/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/*/test_*.c))
UNIT_NAMES := $(notdir $(UNIT_SRC:.c=))
TEST_HDRS := $(wildcard tests/unit/*/*.h)

OBJ      := $(LIB_SRC:src/%.c=build/obj/%.o)
ASAN_OBJ := $(LIB_SRC:src/%.c=build/asan/obj/%.o)
UNIT_BIN := $(addprefix build/tests/,$(UNIT_NAMES))
ASAN_UNIT_BIN := $(addprefix build/asan/tests/,$(UNIT_NAMES))

ITER ?= 5

.PHONY: all deps bench-deps sqltest drivertest scenario fuzz test unit unit-asan run crashtest bench bench-engine clean fuzz-tds fuzz-sql
.PHONY: bench-tpcb bench-select bench-recovery bench-server bench-backup bench-marks
# tds_floor (bench) links the protocol layer alone: built here so a change
# that breaks it shows in make test, not at the next make bench.
all: build/hadrd build/libhadr.a build/tds_floor

deps:
	@scripts/install-deps

build/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) $(CPPFLAGS) -MMD -MP -c $< -o $@

build/asan/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(ASANFLAGS) $(CPPFLAGS) -MMD -MP -c $< -o $@

build/libhadr.a: $(OBJ)
	@rm -f $@; ar rcs $@ $^

build/asan/libhadr.a: $(ASAN_OBJ)
	@rm -f $@; ar rcs $@ $^

SERVER_SRC := $(sort $(wildcard src/server/*.c))
SERVER_OBJ := $(SERVER_SRC:src/%.c=build/obj/%.o)
ASAN_SERVER_OBJ := $(SERVER_SRC:src/%.c=build/asan/obj/%.o)

build/hadrd: $(SERVER_OBJ) build/libhadr.a
	$(CC) $(CSTD) $(WARN) $(CFLAGS) $^ -o $@ -lssl -lcrypto $(LDLIBS)

build/asan/hadrd: $(ASAN_SERVER_OBJ) build/asan/libhadr.a
	$(CC) $(CSTD) $(WARN) $(ASANFLAGS) $^ -o $@ -lssl -lcrypto $(LDLIBS)

# Unit tests: one cmocka binary per tests/unit/<layer>/test_<module>.c
# (tests of src/server/ also link the server's objects but main, and OpenSSL)
define unit_rule
build/tests/$(1): $(2) $(3) build/libhadr.a $(TEST_HDRS)
	@mkdir -p build/tests
	$$(CC) $$(CSTD) $$(WARN) $$(CFLAGS) $$(CPPFLAGS) -Itests $$< $(3) build/libhadr.a -o $$@ -lcmocka $(if $(3),-lssl -lcrypto) $$(LDLIBS)
build/asan/tests/$(1): $(2) $(4) build/asan/libhadr.a $(TEST_HDRS)
	@mkdir -p build/asan/tests
	$$(CC) $$(CSTD) $$(WARN) $$(ASANFLAGS) $$(CPPFLAGS) -Itests $$< $(4) build/asan/libhadr.a -o $$@ -lcmocka $(if $(4),-lssl -lcrypto) $$(LDLIBS)
endef
UNIT_SERVER_OBJ := $(filter-out %/main.o,$(SERVER_OBJ))
ASAN_UNIT_SERVER_OBJ := $(filter-out %/main.o,$(ASAN_SERVER_OBJ))
$(foreach t,$(UNIT_SRC),$(eval $(call unit_rule,$(notdir $(t:.c=)),$(t),$(if $(filter tests/unit/server/%,$(t)),$(UNIT_SERVER_OBJ)),$(if $(filter tests/unit/server/%,$(t)),$(ASAN_UNIT_SERVER_OBJ)))))

build/crashtest: tests/crash/crashtest.c build/libhadr.a
	$(CC) $(CSTD) $(WARN) $(CFLAGS) $(CPPFLAGS) $< build/libhadr.a -o $@ $(LDLIBS)

build/bench_engine: bench/engine_bench.c build/libhadr.a
	$(CC) $(CSTD) $(WARN) $(CFLAGS) $(CPPFLAGS) $< build/libhadr.a -o $@ -lsqlite3 $(LDLIBS)

unit: deps $(UNIT_BIN)
	@touch build/unit.ran; scripts/run-unit-tests build/tests $(UNIT_NAMES)

unit-asan: deps $(ASAN_UNIT_BIN)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  scripts/run-unit-tests build/asan/tests $(UNIT_NAMES); \
	  rc=$$?; touch build/unit-asan.ran; exit $$rc

crashtest: deps build/crashtest
	@mkdir -p build
	@if build/crashtest --iterations $(ITER) --dir build/crashtest-data; then \
	  echo "1 0" >> build/test-counts; else echo "0 1" >> build/test-counts; exit 1; fi

# T-SQL scripts through a real client (pymssql) against a hadrd started on a free port.
sqltest: deps build/hadrd
	@mkdir -p build
	@/usr/bin/python3 tests/sql/run_sql_tests.py --hadrd build/hadrd > build/sqltest.out 2>&1; rc=$$?; \
	  cat build/sqltest.out; \
	  set -- $$(sed -n 's/^sql: \([0-9]*\) passed, \([0-9]*\) failed/\1 \2/p' build/sqltest.out); \
	  echo "$${1:-0} $${2:-1}" >> build/test-counts; exit $$rc

# One test per client driver (tsql, pymssql, pyodbc + tdsodbc, tedious) against its own hadrd.
drivertest: deps build/hadrd
	tests/drivers/run.sh

# Multi-client stories against real hadrd processes (crash, bad input, ...).
scenario: deps build/hadrd
	tests/scenario/run.sh

# Every suite appends "passed failed" to build/test-counts; the last line sums them.
test: deps
	@mkdir -p build && rm -f build/test-counts build/*.ran
	$(MAKE) all
	$(MAKE) unit || [ -f build/unit.ran ] || echo "0 1" >> build/test-counts
	$(MAKE) unit-asan || [ -f build/unit-asan.ran ] || echo "0 1" >> build/test-counts
	$(MAKE) crashtest ITER=$(ITER) || true
	$(MAKE) sqltest || true
	$(MAKE) drivertest || true
	$(MAKE) scenario || true
	$(MAKE) fuzz || true
	@scripts/test-summary build/test-counts

run: deps all
	build/hadrd

# Client/server benchmarks against PostgreSQL (bench/README.md); BENCH_SECONDS=N per point.
build/loadgen: bench/loadgen.c
	@mkdir -p build
	$(CC) $(CSTD) $(WARN) $(CFLAGS) -D_GNU_SOURCE $< -o $@ -lsybdb -lpthread

# The protocol layer alone, with what it needs (tds_floor, fuzz-tds).
TDS_SRC := $(sort $(wildcard src/tds/*.c)) src/os/sockread.c src/util/utf16.c src/util/err.c \
           src/util/msgtab.c src/access/value.c

# A TDS server that does no database work: what the round trips alone cost (bench/README.md).
build/tds_floor: bench/tds_floor.c $(TDS_SRC) $(wildcard src/tds/*.h)
	@mkdir -p build
	$(CC) $(CSTD) $(WARN) $(CFLAGS) $(CPPFLAGS) $< $(TDS_SRC) -o $@ -lpthread -lm

build/fsync_probe: bench/fsync_probe.c
	@mkdir -p build
	$(CC) $(CSTD) $(WARN) $(CFLAGS) -D_GNU_SOURCE $< -o $@

BENCH_BINS := build/hadrd build/loadgen build/fsync_probe build/tds_floor
bench: bench-deps
	@$(MAKE) --no-print-directory $(BENCH_BINS) build/bench_engine
	build/bench_engine --dir build/bench-data --out $${BENCH_OUT:-bench/results}
	/usr/bin/python3 bench/run.py all
	/usr/bin/python3 bench/backup_bench.py
	/usr/bin/python3 bench/marks_bench.py

bench-tpcb bench-tpcb1 bench-select bench-recovery bench-server: bench-deps
	@$(MAKE) --no-print-directory $(BENCH_BINS)
	/usr/bin/python3 bench/run.py $(@:bench-%=%)

bench-backup: bench-deps
	@$(MAKE) --no-print-directory build/hadrd
	/usr/bin/python3 bench/backup_bench.py

bench-marks: bench-deps
	@$(MAKE) --no-print-directory $(BENCH_BINS)
	/usr/bin/python3 bench/marks_bench.py

bench-deps:
	@scripts/install-deps bench

bench-engine: bench-deps build/bench_engine
	build/bench_engine --dir build/bench-data --out $${BENCH_OUT:-bench/results}

# libFuzzer target for every TDS decoder (clang): make fuzz-tds [FUZZ_TIME=seconds]
FUZZ_TIME ?= 60
build/fuzz/fuzz_tds: tests/fuzz/fuzz_tds.c $(TDS_SRC) $(wildcard src/tds/*.h)
	@mkdir -p build/fuzz
	clang $(CSTD) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  $(CPPFLAGS) tests/fuzz/fuzz_tds.c $(TDS_SRC) -o $@ -lm

# FUZZ_CORPUS: where the growing corpus lives; FUZZ_FLAGS: extra libFuzzer flags.
FUZZ_CORPUS ?= build/fuzz/corpus
FUZZ_FLAGS  ?=
fuzz-tds: deps build/fuzz/fuzz_tds
	@mkdir -p $(FUZZ_CORPUS)-tds
	FUZZ_TDS_SEED_DIR=$(FUZZ_CORPUS)-tds build/fuzz/fuzz_tds -max_total_time=$(FUZZ_TIME) $(FUZZ_FLAGS) \
	  -max_len=65536 -rss_limit_mb=2048 -artifact_prefix=build/fuzz/ $(FUZZ_CORPUS)-tds

# libFuzzer target for the T-SQL lexer/parser/printer (clang): make fuzz-sql [FUZZ_TIME=seconds]
SQL_PARSER_SRC := $(sort $(wildcard src/sql/lexer.c src/sql/ast*.c src/sql/parser*.c)) src/sql/plancache.c \
                  src/util/arena.c src/util/err.c src/util/msgtab.c
build/fuzz/fuzz_sql: tests/fuzz/fuzz_sql.c $(SQL_PARSER_SRC) $(wildcard src/sql/*.h)
	@mkdir -p build/fuzz
	clang $(CSTD) $(WARN) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  $(CPPFLAGS) tests/fuzz/fuzz_sql.c $(SQL_PARSER_SRC) -o $@ -lm

fuzz-sql: deps build/fuzz/fuzz_sql
	@mkdir -p $(FUZZ_CORPUS)-sql
	build/fuzz/fuzz_sql -max_total_time=$(FUZZ_TIME) $(FUZZ_FLAGS) -dict=tests/fuzz/sql.dict \
	  -artifact_prefix=build/fuzz/ $(FUZZ_CORPUS)-sql tests/fuzz/sql-seeds

# Both fuzz targets as make test runs them: a fixed seed, a fixed number of
# runs (about a minute each here) and an empty corpus. Runs still differ a
# little between machines (libFuzzer's corpus handling is not fully
# deterministic), so fuzz open-ended before landing parser or decoder
# changes: make fuzz-sql FUZZ_TIME=600 (random seed, corpus kept in
# build/fuzz/). A time cap bounds slow machines.
FUZZ_RUNS_tds ?= 2500000
FUZZ_RUNS_sql ?= 1000000
fuzz: deps
	@mkdir -p build
	@rm -rf build/fuzz/fixed-*
	@for t in tds sql; do \
	  if $(MAKE) --no-print-directory fuzz-$$t FUZZ_TIME=90 FUZZ_CORPUS=build/fuzz/fixed \
	       FUZZ_FLAGS="-seed=1 -runs=$$( [ $$t = tds ] && echo $(FUZZ_RUNS_tds) || echo $(FUZZ_RUNS_sql) )" \
	       > build/fuzz-$$t.out 2>&1; then echo "1 0" >> build/test-counts; \
	     echo "fuzz-$$t: $$(grep -o 'Done [0-9]* runs' build/fuzz-$$t.out | tail -1), no crash"; \
	  else echo "0 1" >> build/test-counts; tail -40 build/fuzz-$$t.out; echo "fuzz-$$t FAILED"; fi; done

clean:
	rm -rf build

-include $(OBJ:.o=.d) $(ASAN_OBJ:.o=.d) $(SERVER_OBJ:.o=.d)
