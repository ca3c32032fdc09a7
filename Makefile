# gmstore: `make demo` builds everything and runs the simulator on
# godly_ai.db; `make test` runs every test. See README.md.

CARGO      ?= cargo
CC         ?= cc
CXX        ?= c++
# The one place the cbindgen version is pinned (.ci/run installs it).
CBINDGEN_VERSION := 0.29.4

VERSION    := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
RELEASE    := target/release
LIBSO      := $(RELEASE)/libgmstore.so
LIBA       := $(RELEASE)/libgmstore.a
OUT        := target/c
DB         ?= godly_ai.db

WARN       := -Wall -Wextra -Werror
CFLAGS_C   := -std=c11 $(WARN) -g -O1 -Iinclude -DEXPECTED_VERSION='"$(VERSION)"'
CFLAGS_CXX := -std=c++17 $(WARN) -g -O1 -Iinclude
LINK_SO    := -L$(RELEASE) -lgmstore -Wl,-rpath,$(CURDIR)/$(RELEASE) -lpthread -lm
LINK_A     := $(LIBA) -lpthread -ldl -lm
SANITIZE   := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

.PHONY: demo-fleet test-suites bench-bindings-build all build header check-header demo test test-long lint test-rust test-c test-cpp test-python test-install test-csharp test-lua install fuzz audit bench clean

all: build

# The SONAME is libgmstore.so.0; the link named so lets programs linked
# here run from the build tree.
build:
	$(CARGO) build --release --features cli
	ln -sf libgmstore.so $(RELEASE)/libgmstore.so.0

# The header, then the bindings' generated view of it (LuaJIT cdef, C#
# structs and P/Invoke declarations).
header:
	cbindgen --config cbindgen.toml --crate gmstore --output include/gmstore.h
	python3 scripts/gen_bindings.py

# Fails when the committed header differs from what the sources generate.
check-header: | $(OUT)
	@command -v cbindgen >/dev/null || { echo "cbindgen $(CBINDGEN_VERSION) is required: cargo install cbindgen --version $(CBINDGEN_VERSION) --locked"; exit 1; }
	@cbindgen --version | grep -q " $(CBINDGEN_VERSION)$$" || { echo "cbindgen $(CBINDGEN_VERSION) is required, found: $$(cbindgen --version)"; exit 1; }
	cbindgen --config cbindgen.toml --crate gmstore --output $(OUT)/gmstore.h
	diff -u include/gmstore.h $(OUT)/gmstore.h || { echo "include/gmstore.h is stale: run 'make header' and commit"; exit 1; }
	python3 scripts/gen_bindings.py --check

$(OUT):
	mkdir -p $(OUT)

$(OUT)/simulator: examples/c/simulator.c include/gmstore.h build | $(OUT)
	$(CC) -std=c11 $(WARN) -O2 -Iinclude $< -o $@ $(LINK_SO)

demo: $(OUT)/simulator
	./$(OUT)/simulator $(DB)

$(OUT)/fleet_report: examples/c/fleet_report.c include/gmstore.h build | $(OUT)
	$(CC) -std=c11 $(WARN) -O2 -Iinclude $< -o $@ $(LINK_SO)

# A throwaway PostgreSQL server, 4 simulators writing to one store on it at
# once, the merged report; the server is stopped afterwards.
demo-fleet: $(OUT)/simulator $(OUT)/fleet_report
	scripts/pg_throwaway.sh scripts/demo_fleet.sh

# Every suite, with a throwaway PostgreSQL cluster for the server engine's
# tests (scripts/pg_throwaway.sh; a server of your own: set GMSTORE_TEST_PG).
test:
	scripts/pg_throwaway.sh $(MAKE) test-suites

test-suites: lint check-header test-rust test-c test-cpp test-python test-install test-csharp test-lua
	@echo "make test: all suites passed"

# The full reliability counts: 40 crash trials, a 30-second soak, and
# 5,000 cases of each property test.
test-long: build
	GMSTORE_CRASH_TRIALS=40 $(CARGO) test --release --test crash -- --nocapture
	GMSTORE_SOAK_SECS=30 $(CARGO) test --release --test soak -- --nocapture
	PROPTEST_CASES=5000 $(CARGO) test --release --test model
	$(MAKE) fuzz FUZZ_SECONDS=180 FUZZ_OPT=-O

# Coverage-guided fuzzing (cargo-fuzz; RUSTC_BOOTSTRAP lets the stable
# toolchain take its nightly flags). Any crash fails the run. Not part of
# `make test`: the sanitizer build of every dependency takes about 5.5 min
# here, more than the whole test suite; `make test` feeds the same parsers
# random input through proptest (tests/model.rs) instead.
FUZZ_SECONDS ?= 10
FUZZ_OPT ?=
FUZZ_TARGETS := experience_decode abi_inputs import_lines
fuzz:
	@command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is required: cargo install cargo-fuzz --locked"; exit 1; }
	mkdir -p $(OUT)
	cd fuzz && for t in $(FUZZ_TARGETS); do \
	  log=../$(OUT)/fuzz_$$t.log; \
	  RUSTC_BOOTSTRAP=1 cargo fuzz run $(FUZZ_OPT) $$t -- -max_total_time=$(FUZZ_SECONDS) > $$log 2>&1 \
	    || { tail -n 40 $$log; echo "fuzz target $$t failed: see fuzz/artifacts/$$t"; exit 1; }; \
	  echo "fuzz $$t: $$(grep -E '^Done' $$log)"; \
	done

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --release --all-targets --features cli -- -D warnings
	$(CARGO) clippy --release --lib -- -D warnings

# Every Rust suite, then the engine-neutral ones again on a PostgreSQL store
# (tests/common: GMSTORE_TEST_ENGINE=postgres).
ENGINE_NEUTRAL := episodes concepts_graph_learning search traversal transactions strategies concurrency model backup knn_snapshot replay retention retention_model
test-rust:
	$(CARGO) test --release --features cli
	GMSTORE_TEST_ENGINE=postgres $(CARGO) test --release $(addprefix --test ,$(ENGINE_NEUTRAL))

# C tests: ASan+UBSan against the shared library, then valgrind against
# the static library, so both artefacts are exercised.
test-c: build | $(OUT)
	$(CC) $(CFLAGS_C) $(SANITIZE) tests/c/test_postgres.c -o $(OUT)/test_postgres $(LINK_SO)
	ASAN_OPTIONS=detect_leaks=1 ./$(OUT)/test_postgres
	$(CC) $(CFLAGS_C) $(SANITIZE) tests/c/test_gmstore.c -o $(OUT)/test_gmstore_asan $(LINK_SO)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 ./$(OUT)/test_gmstore_asan
	$(CC) $(CFLAGS_C) tests/c/test_gmstore.c -o $(OUT)/test_gmstore_static $(LINK_A)
	valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,possible --error-exitcode=1 ./$(OUT)/test_gmstore_static
	$(CC) -std=c11 $(WARN) -O2 -Iinclude examples/c/simulator.c -o $(OUT)/simulator_test $(LINK_SO)
	rm -f $(OUT)/demo_test.db* && ./$(OUT)/simulator_test $(OUT)/demo_test.db > $(OUT)/simulator.out
	grep -q "best strategies" $(OUT)/simulator.out
	sqlite3 $(OUT)/demo_test.db .tables | grep -q concept_relationships
	./scripts/check_exports.sh $(LIBSO)

test-cpp: build | $(OUT)
	printf '#include "gmstore.h"\n#include "gmstore.h"\n#include "gmstore.hpp"\nint main(void) { return gm_version() == GM_VERSION_NUMBER ? 0 : 1; }\n' > $(OUT)/header_twice.cpp
	$(CXX) $(CFLAGS_CXX) $(OUT)/header_twice.cpp -o $(OUT)/header_twice $(LINK_SO) && ./$(OUT)/header_twice
	$(CXX) $(CFLAGS_CXX) -x c++ -fsyntax-only -std=c++20 include/gmstore.h
	$(CXX) $(CFLAGS_CXX) $(SANITIZE) examples/cpp/memory_demo.cpp -o $(OUT)/memory_demo $(LINK_SO)
	rm -f $(OUT)/cpp_demo.db* && ./$(OUT)/memory_demo $(OUT)/cpp_demo.db

# Installs the libraries (shared, with the SONAME link, and static; debug
# info stripped, as a release user links them), the headers, a pkg-config
# file and a CMake package under $(DESTDIR)$(PREFIX).
PREFIX  ?= /usr/local
DESTDIR ?=
LIBDIR  := $(DESTDIR)$(PREFIX)/lib
SUBST   := sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g'
install: build
	install -d $(LIBDIR)/pkgconfig $(LIBDIR)/cmake/gmstore $(DESTDIR)$(PREFIX)/include
	install -m 0755 $(LIBSO) $(LIBDIR)/libgmstore.so.$(VERSION)
	strip --strip-debug $(LIBDIR)/libgmstore.so.$(VERSION)
	ln -sf libgmstore.so.$(VERSION) $(LIBDIR)/libgmstore.so.0
	ln -sf libgmstore.so.0 $(LIBDIR)/libgmstore.so
	install -m 0644 $(LIBA) $(LIBDIR)/libgmstore.a
	strip --strip-debug $(LIBDIR)/libgmstore.a
	install -m 0644 include/gmstore.h include/gmstore.hpp $(DESTDIR)$(PREFIX)/include/
	$(SUBST) packaging/gmstore.pc.in > $(LIBDIR)/pkgconfig/gmstore.pc
	$(SUBST) packaging/gmstoreConfig.cmake.in > $(LIBDIR)/cmake/gmstore/gmstoreConfig.cmake
	$(SUBST) packaging/gmstoreConfigVersion.cmake.in > $(LIBDIR)/cmake/gmstore/gmstoreConfigVersion.cmake

# Installs into a scratch prefix, then builds a program against it the two
# ways users do: pkg-config and CMake's find_package.
INSTALL_TEST := $(CURDIR)/target/install-test
test-install: build
	rm -rf $(INSTALL_TEST)
	$(MAKE) --no-print-directory install PREFIX=$(INSTALL_TEST)/prefix
	@echo "installed libgmstore.so: $$(stat -c %s $(INSTALL_TEST)/prefix/lib/libgmstore.so.$(VERSION)) bytes"
	! readelf -S $(INSTALL_TEST)/prefix/lib/libgmstore.so.$(VERSION) | grep -q debug_info
	mkdir -p $(INSTALL_TEST)/pc $(INSTALL_TEST)/cmake
	PKG_CONFIG_PATH=$(INSTALL_TEST)/prefix/lib/pkgconfig sh -c '$(CC) -std=c11 $(WARN) tests/install/use_gmstore.c -o $(INSTALL_TEST)/pc/use_gmstore $$(pkg-config --cflags --libs gmstore) -Wl,-rpath,$(INSTALL_TEST)/prefix/lib'
	$(INSTALL_TEST)/pc/use_gmstore $(INSTALL_TEST)/pc/test.db
	PKG_CONFIG_PATH=$(INSTALL_TEST)/prefix/lib/pkgconfig sh -c '$(CC) -std=c11 $(WARN) tests/install/use_gmstore.c -o $(INSTALL_TEST)/pc/use_gmstore_static $$(pkg-config --cflags gmstore) $(INSTALL_TEST)/prefix/lib/libgmstore.a -lpthread -ldl -lm'
	$(INSTALL_TEST)/pc/use_gmstore_static $(INSTALL_TEST)/pc/static.db
	cmake -S tests/install -B $(INSTALL_TEST)/cmake -DCMAKE_PREFIX_PATH=$(INSTALL_TEST)/prefix -DCMAKE_BUILD_RPATH=$(INSTALL_TEST)/prefix/lib > $(INSTALL_TEST)/cmake.log
	cmake --build $(INSTALL_TEST)/cmake >> $(INSTALL_TEST)/cmake.log
	$(INSTALL_TEST)/cmake/use_gmstore $(INSTALL_TEST)/cmake/test.db

# C# (Mono, as Unity's scripting runtime): the binding as a library, its
# tests, the agent-loop example. DllImport finds libgmstore.so through
# LD_LIBRARY_PATH, as a Unity player finds it in Plugins.
CS      := target/cs
MCS     := mcs -langversion:7.2 -warnaserror -optimize+
RUN_CS  := LD_LIBRARY_PATH=$(CURDIR)/$(RELEASE) mono

$(CS)/Gmstore.dll: bindings/csharp/Gmstore.cs build
	mkdir -p $(CS)
	$(MCS) -target:library -out:$@ bindings/csharp/Gmstore.cs

test-csharp: $(CS)/Gmstore.dll
	$(MCS) -r:$(CS)/Gmstore.dll -out:$(CS)/TestGmstore.exe tests/csharp/TestGmstore.cs
	$(MCS) -r:$(CS)/Gmstore.dll -out:$(CS)/AgentLoop.exe examples/csharp/AgentLoop.cs
	rm -rf $(CS)/test && mkdir -p $(CS)/test
	$(RUN_CS) $(CS)/TestGmstore.exe $(CS)/test
	$(RUN_CS) $(CS)/AgentLoop.exe $(CS)/test/agent.db

# LuaJIT: the module over the generated cdef, its tests, the LÖVE-style loop.
test-lua: build
	rm -rf target/lua && mkdir -p target/lua
	GMSTORE_LIB=$(CURDIR)/$(LIBSO) luajit tests/lua/test_gmstore.lua target/lua
	GMSTORE_LIB=$(CURDIR)/$(LIBSO) luajit examples/lua/love_loop.lua target/lua/memory.db

# The per-call benchmark of the bindings against the same loop in C.
bench-bindings-build: $(CS)/Gmstore.dll | $(OUT)
	$(CC) -std=c11 $(WARN) -O2 -Iinclude bench/bindings/get_episode.c -o $(OUT)/get_episode_bench $(LINK_SO)
	$(CC) -std=c11 $(WARN) -O2 -Iinclude bench/replay/learner_step.c -o $(OUT)/learner_step $(LINK_SO)
	$(MCS) -r:$(CS)/Gmstore.dll -out:$(CS)/GetEpisodeBench.exe bench/bindings/GetEpisodeBench.cs

VENV := .venv
PY   := $(VENV)/bin/python

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "numpy>=1.22" "pytest>=7" "matplotlib>=3.7" "scipy>=1.9"

# Installs the package the way a user does (one pip command, the library
# inside the package), then tests the installed copy, not the source tree.
test-python: build $(OUT)/simulator $(PY)
	$(PY) -c "import scipy" 2>/dev/null || $(PY) -m pip install -q "scipy>=1.9"  # the reference of test_strategies
	$(PY) -m pip install -q --force-reinstall --no-deps ./python
	cd $(OUT) && GMSTORE_TEST_INSTALLED=1 $(CURDIR)/$(PY) -m pytest -q -p no:cacheprovider $(CURDIR)/python/tests
	$(PY) examples/python/seed_examples.py > $(OUT)/seed_examples.out
	grep -q "all seed examples ran" $(OUT)/seed_examples.out
	$(PY) examples/python/semantic_search.py > $(OUT)/semantic_search.out
	grep -q "strongest path" $(OUT)/semantic_search.out
	$(PY) -c "import matplotlib" 2>/dev/null || $(PY) -m pip install -q "matplotlib>=3.7"
	$(PY) -m pytest -q -p no:cacheprovider bench/test_report.py

# Dependency policy offline: licenses, banned crates, sources. Advisories
# need the RustSec database, which needs network (see SECURITY.md).
audit:
	cargo deny --offline check licenses bans sources

# Every benchmark, then BENCHMARKS.md and docs/*.png (about 10 minutes).
bench: build $(PY) bench-bindings-build
	$(PY) -c "import matplotlib" 2>/dev/null || $(PY) -m pip install -q "matplotlib>=3.7"
	PY=$(PY) ./scripts/bench.sh

clean:
	$(CARGO) clean
	rm -rf $(OUT)
