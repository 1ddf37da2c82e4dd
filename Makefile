# ferry: plain GNU make with pkg-config.
#   make            build ./ferry and the test helpers
#   make deps       install every Debian package the build and tests need
#   make check      deps + build + every test, ends with "N passed, N failed, N skipped"
#   make demo       deps + build + the main job end to end
#   make bench      benchmarks (not part of check)
#   make kernel-test  build kernel-patches/ into a kernel, boot it in qemu (long; not part of check)
#   make SANITIZE=1 check   the same under AddressSanitizer/UBSan

PKGS := yajl libseccomp libcap
CC ?= cc
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -D_GNU_SOURCE \
	-I. -Iruntime -MMD -MP $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null)

ifeq ($(SANITIZE),1)
BUILD := build-asan
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
else
BUILD := build
endif

LIB_SRC := $(filter-out runtime/main.c,$(wildcard runtime/*.c runtime/coordinator/*.c oci/*.c migrate/*.c))
CMD_SRC := runtime/main.c
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/test-*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

all: $(BUILD)/ferry ferry $(UNIT_BIN) $(BUILD)/tests/payload

ferry: $(BUILD)/ferry
	@if [ "$(BUILD)" = build ]; then ln -sf $(BUILD)/ferry ferry; fi

$(BUILD)/ferry: $(BUILD)/runtime/main.o $(BUILD)/libferry.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libferry.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/test-%: $(BUILD)/tests/unit/test-%.o $(BUILD)/libferry.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The payload runs inside containers: static, no sanitizer.
$(BUILD)/tests/payload: tests/payload.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -static -o $@ $<

deps:
	@hack/deps.sh

check: deps
	@$(MAKE) --no-print-directory all
	@hack/check.sh $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory all
	@hack/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@hack/bench.sh

# Builds ferry first so the guest can run a static `ferry check` too.
kernel-test: deps
	@$(MAKE) --no-print-directory all
	@hack/kernel-test.sh

lint:
	clang-format --dry-run --Werror $(LIB_SRC) $(CMD_SRC)
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--inline-suppr -I. -Iruntime $(LIB_SRC) $(CMD_SRC)

clean:
	rm -rf build build-asan ferry

.PHONY: all deps check demo bench lint clean ferry kernel-test
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
