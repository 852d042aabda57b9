# SPDX-License-Identifier: Apache-2.0
# sf-net build. `make` builds the release binaries into build/; `make test` builds everything
# with ASan+UBSan into build-test/ and runs every test layer. See README.md.

VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo 0.1)
BUILD    ?= release
ifeq ($(BUILD),test)
O        ?= build-test
OPT       = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDOPT     = -fsanitize=address,undefined
else
O        ?= build
OPT       = -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fno-common
LDOPT     =
endif

# Symbols bound at start (full RELRO): hardening, and it spares each forked child (dnsmasq,
# ping) the lazy symbol binding that showed in a profile of deploys (ld.so's do_lookup_x).
LDOPT    += -Wl,-z,relro,-z,now

CC       ?= cc
WERROR   ?= -Werror
CSTD      = -std=gnu11 -D_GNU_SOURCE
WARN      = -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wmissing-declarations -Wold-style-definition -Wformat=2 -Wundef -Wvla -Wpointer-arith
PKGS      = libnl-route-3.0 libnl-3.0 hiredis librabbitmq libmicrohttpd jansson uuid libnftables \
            libjwt libsodium
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CPPFLAGS  = -Ishared/include -Iworkers -MMD -MP -DSF_BUILD_SCHEMA_DIR='"$(CURDIR)/schemas"' -DSF_VERSION='"$(VERSION)"'
CFLAGS    = $(CSTD) $(WARN) $(OPT) $(PKG_CFLAGS)
LDLIBS    = $(PKG_LIBS) -lpthread -lm
TEST_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

# Each daemon is a thin main.c plus a static library of its logic, so tests link what ships.
SHARED_SRC  = $(wildcard shared/src/*.c)
API_SRC     = $(filter-out api/src/main.c,$(wildcard api/src/*.c))
WORKER_SRC  = $(wildcard workers/common/*.c)
NN_SRC      = $(filter-out workers/networknode/main.c,$(wildcard workers/networknode/*.c))
HV_SRC      = $(filter-out workers/hypervisor/main.c,$(wildcard workers/hypervisor/*.c))
FAKE_SRC    = $(wildcard tests/fakes/*.c)
UNIT_SRC    = $(wildcard tests/unit/test_*.c)
INTEG_SRC   = $(wildcard tests/integration/test_*.c)

objs = $(patsubst %.c,$(O)/%.o,$(1))

LIBSF     = $(O)/libsf.a
LIBAPI    = $(O)/libapi.a
LIBWORKER = $(O)/libworker.a
LIBNN     = $(O)/libnn.a
LIBHV     = $(O)/libhv.a
LIBFAKES  = $(O)/libfakes.a
DAEMON_LIBS = $(LIBAPI) $(LIBNN) $(LIBHV) $(LIBWORKER) $(LIBSF)

BINS = $(O)/sf-api $(O)/sf-networknode $(O)/sf-hypervisor $(O)/sf-submit
UNIT_BINS  = $(patsubst %.c,$(O)/%,$(UNIT_SRC))
INTEG_BINS = $(patsubst %.c,$(O)/%,$(INTEG_SRC))

.PHONY: all all-tests bench deps run test check check-unit check-integration check-api check-e2e format tidy clean \
        services-start services-stop
.DEFAULT_GOAL := all

all: $(LIBSF) $(BINS)

deps:
	@ops/deps.sh

# V=1 shows the full commands.
ifeq ($(V),1)
Q =
say = @true
else
Q = @
say = @printf '  %-6s %s\n'
endif

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBSF): $(call objs,$(SHARED_SRC))
$(LIBAPI): $(call objs,$(API_SRC))
$(LIBWORKER): $(call objs,$(WORKER_SRC))
$(LIBNN): $(call objs,$(NN_SRC))
$(LIBHV): $(call objs,$(HV_SRC))
$(LIBFAKES): $(call objs,$(FAKE_SRC))
$(LIBSF) $(LIBAPI) $(LIBWORKER) $(LIBNN) $(LIBHV) $(LIBFAKES): $(O)/empty.o
$(O)/%.a:
	@mkdir -p $(dir $@)
	@rm -f $@
	$(say) AR $@
	$(Q)ar rcs $@ $^

$(O)/sf-api: $(O)/api/src/main.o $(LIBAPI) $(LIBSF)
$(O)/sf-networknode: $(O)/workers/networknode/main.o $(LIBNN) $(LIBWORKER) $(LIBSF)
$(O)/sf-hypervisor: $(O)/workers/hypervisor/main.o $(LIBHV) $(LIBWORKER) $(LIBSF)
$(O)/sf-submit: $(O)/ops/submit/sf-submit.o $(LIBWORKER) $(LIBSF)
$(BINS):
	$(say) LD $@
	$(Q)$(CC) $(LDOPT) -o $@ $^ $(LDLIBS)

# Test binaries link the fakes first, so a fake's symbols win over nothing: the real adapters
# and the fakes have different names (kv_redis vs kv_fake); tests pick by calling the constructor.
$(O)/tests/%: $(O)/tests/%.o $(LIBFAKES) $(DAEMON_LIBS)
	$(say) LD $@
	$(Q)$(CC) $(LDOPT) -o $@ $^ $(LDLIBS) $(TEST_LIBS)

# An empty object so that an archive with no sources yet can still be created.
$(O)/empty.o:
	@mkdir -p $(O)
	$(Q)echo 'typedef int sf_empty_unit;' | $(CC) -x c -c -o $@ -

# ---- tests ----------------------------------------------------------------------------------
# `make test` = deps, sanitizer build, then every layer. Each layer's runner ends with a line
# "<layer>: N passed, N failed".
# Every layer runs even when an earlier one fails; the exit status says whether all passed.
TEST_LAYERS = check-unit check-integration check-api check-e2e
test: deps
	$(MAKE) BUILD=test all-tests
	@rc=0; for t in $(TEST_LAYERS); do $(MAKE) --no-print-directory BUILD=test $$t || rc=1; done; exit $$rc

all-tests: all $(UNIT_BINS) $(INTEG_BINS)

check: check-unit

check-unit: all-tests
	@tests/lib/run-cmocka.sh unit $(UNIT_BINS)

check-integration: all-tests
	@tests/lib/run-integration.sh $(INTEG_BINS)

run: deps
	$(MAKE) all
	ops/run.sh

check-api: all
	@SF_API_BIN=$(CURDIR)/$(O)/sf-api tests/lib/run-api.sh

check-e2e: all
	@tests/lib/run-e2e.sh

# Benchmarks (issue 6): release build plus the two benchmark programs, then bench/run.sh.
BENCH_BINS = $(O)/bench/plumb $(O)/bench/fixed_server
$(O)/bench/plumb: $(O)/bench/plumb.o $(LIBNN) $(LIBWORKER) $(LIBSF)
	$(say) LD $@
	$(Q)$(CC) $(LDOPT) -o $@ $^ $(LDLIBS)
$(O)/bench/fixed_server: $(O)/bench/fixed_server.o $(LIBSF)
	$(say) LD $@
	$(Q)$(CC) $(LDOPT) -o $@ $^ $(LDLIBS)

bench: deps
	$(MAKE) all $(BENCH_BINS)
	bench/run.sh

services-start:
	@ops/services.sh start
services-stop:
	@ops/services.sh stop

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

tidy:
	clang-tidy --quiet $$(git ls-files 'shared/src/*.c' 'api/src/*.c' 'workers/*.c' 'workers/*/*.c') \
		-- $(CPPFLAGS) $(CSTD) $(PKG_CFLAGS)

clean:
	rm -rf build build-test

-include $(shell find $(O) -name '*.d' 2>/dev/null)
