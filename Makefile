# Yard: the Kore module (obj/yard.so), tests, benches and helpers.
# The two commands a person needs are `make run` and `make test`.

OBJDIR?=	obj
PKGS=		jansson libcurl libpq hiredis libcrypto
KORE_FEATURES=	$(shell cat /usr/share/kore/features 2>/dev/null)

CFLAGS+=	-std=c99 -pedantic -D_GNU_SOURCE -Isrc
CFLAGS+=	-Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS+=	-Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations
CFLAGS+=	-Wshadow -Wpointer-arith -Wcast-qual -Wsign-compare
CFLAGS+=	-Wtype-limits -Wformat=2 -fstack-protector-strong
CFLAGS+=	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS+=	$(shell pkg-config --libs $(PKGS) 2>/dev/null)

ifneq ("$(SANITIZE)", "")
CFLAGS+=	-g -O1 -fno-omit-frame-pointer -fsanitize=$(SANITIZE)
CFLAGS+=	-fno-sanitize-recover=all
LDFLAGS+=	-fsanitize=$(SANITIZE)
else ifneq ("$(NOOPT)", "")
CFLAGS+=	-g -O0
else
CFLAGS+=	-g -O2 -D_FORTIFY_SOURCE=2
endif

# Kore-free sources: linked by the module, unit tests and fuzzers alike.
AUTH_SRCS=	src/auth/token.c src/auth/claims.c src/auth/keyset.c src/auth/cache.c src/auth/b64.c \
		src/auth/perm.c src/auth/cfgcrypt.c
# cfgcrypt.c's base64 is agentproto's (the agent decodes the same files).
AUTH_SRCS+=	src/agentproto/common.c
AUTH_SRCS+=	src/auth/alertrule.c
PROTO_SRCS=	$(AGENTPROTO_SRCS)
PKG_SRCS=	src/pkg/check.c src/pkg/name.c
# Byte-exact edits of XML/JSON/.properties files (the agent links them too).
CFGEDIT_SRCS=	src/cfgedit/common.c src/cfgedit/cfgedit.c src/cfgedit/xml.c \
		src/cfgedit/json.c src/cfgedit/props.c
PURE_SRCS=	src/settings.c $(AUTH_SRCS) $(filter-out src/agentproto/common.c,$(PROTO_SRCS)) \
		$(CFGEDIT_SRCS)
MODULE_SRCS=	$(PURE_SRCS) src/app.c src/appstate.c src/auth/sso.c src/store/db.c \
		src/store/redis.c src/api/flow.c src/api/signin.c \
		src/api/reply.c src/api/input.c src/api/secret.c src/api/me.c \
		src/api/users.c src/api/grants.c src/api/audit.c \
		src/api/nodes.c src/api/health.c src/api/ui.c \
		src/api/enroll.c src/api/commands.c src/api/agent.c src/api/logs.c \
		src/api/tasks.c src/core/leader.c src/store/query.c src/store/nodes.c src/core/wait.c \
		src/core/route.c
MODULE_SRCS+=	src/store/tasks.c src/store/commands.c src/store/logs.c
MODULE_SRCS+= src/store/agents.c
MODULE_SRCS+= src/store/heartbeat.c
MODULE_SRCS+= src/store/duties.c
MODULE_SRCS+= src/store/outbox.c src/store/notifications.c
MODULE_SRCS+= src/api/outbox.c src/api/notifications.c
MODULE_SRCS+= src/store/apollo.c src/api/apollo.c
MODULE_SRCS+= src/api/heartbeat.c src/api/nodeauth.c
MODULE_SRCS+=	src/store/users.c src/store/grants.c src/store/audit.c \
		src/store/enroll.c
MODULE_SRCS+=	src/store/pool.c
MODULE_SRCS+=	src/store/config.c src/api/config.c src/auth/cfgdoc.c
MODULE_SRCS+=	$(PKG_SRCS)
MODULE_SRCS+=	src/store/alerts.c src/api/alerts.c
MODULE_SRCS+=	src/api/dist.c
MODULE_SRCS+=	src/api/uploads.c src/api/packages.c src/store/uploads.c \
		src/store/packages.c
# Instance-wide counters and the statement behind /metrics' gauges.
MODULE_SRCS+=	src/core/metrics.c src/store/metrics.c
MODULE_OBJS=	$(MODULE_SRCS:src/%.c=$(OBJDIR)/%.o)

UNIT_TESTS=	$(OBJDIR)/tests/test_settings $(OBJDIR)/tests/test_auth \
		$(OBJDIR)/tests/test_perm $(OBJDIR)/tests/test_pkg \
		$(OBJDIR)/tests/test_cfgcrypt \
		$(OBJDIR)/tests/test_cfgedit $(AGENT_UNIT_TESTS)
UNIT_TESTS+=	$(OBJDIR)/tests/test_alertrule
FUZZERS=	fuzz_token fuzz_jwks fuzz_grants fuzz_settings fuzz_pkg fuzz_cfgedit \
		fuzz_cfgdoc
FUZZERS+=	fuzz_alertrule
FUZZ_SECONDS?=	30

.PHONY: all agent deps run test unit integ e2e bench deb site fuzz format format-check \
	lint lint-cppcheck lint-analyzer clean

all: $(OBJDIR)/yard.so $(OBJDIR)/yard-agent

# yard-agent, the agentproto unit tests and fuzzers.
include agent/agent.mk

agent: $(AGENT_BIN)

deps:
	@./scripts/install-deps.sh

# libarchive and zlib for src/pkg/ (the agent links them too: agent/agent.mk).
PKG_LDLIBS=	-larchive -lz

$(OBJDIR)/yard.so: $(MODULE_OBJS)
	$(CC) -shared $(LDFLAGS) -o $@ $(MODULE_OBJS) $(LDLIBS) $(PKG_LDLIBS)

$(OBJDIR)/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(KORE_FEATURES) -fPIC -MMD -c $< -o $@

$(OBJDIR)/tests/test_settings: tests/unit/test_settings.c src/settings.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lcmocka

$(OBJDIR)/tests/test_auth: tests/unit/test_auth.c $(AUTH_SRCS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -ljwt -lcmocka

$(OBJDIR)/tests/test_perm: tests/unit/test_perm.c $(AUTH_SRCS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(OBJDIR)/tests/test_alertrule: tests/unit/test_alertrule.c $(AUTH_SRCS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(OBJDIR)/tests/test_cfgcrypt: tests/unit/test_cfgcrypt.c $(AUTH_SRCS) \
    src/auth/cfgdoc.c $(CFGEDIT_SRCS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(OBJDIR)/tests/test_pkg: tests/unit/test_pkg.c $(PKG_SRCS) src/pkg/pkg.h \
    src/pkg/internal.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ tests/unit/test_pkg.c $(PKG_SRCS) \
	    $(LDLIBS) $(PKG_LDLIBS) -lcmocka

$(OBJDIR)/tests/test_cfgedit: tests/unit/test_cfgedit.c $(CFGEDIT_SRCS) \
    src/cfgedit/cfgedit.h src/cfgedit/internal.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ tests/unit/test_cfgedit.c \
	    $(CFGEDIT_SRCS) -lcmocka

$(OBJDIR)/bench/verify_bench: tests/bench/verify_bench.c $(AUTH_SRCS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -ljwt

# B12: the agent's apply of a configuration vs a copy of the file.
$(OBJDIR)/bench/cfg_bench: tests/bench/cfg_bench.c $(CFGEDIT_SRCS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

# Simulated agents for make bench (real protocol, one multi handle).
$(OBJDIR)/bench/agentsim: tests/bench/agentsim.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lcurl -ljansson

run: deps all
	@./scripts/run.sh

unit: $(UNIT_TESTS)
	@for t in $(UNIT_TESTS); do $$t || exit 1; done

# Every suite; the last line is "N passed, N failed".
test: deps all $(UNIT_TESTS)
	@./scripts/test.sh $(UNIT_TESTS)

integ: all
	@./scripts/test.sh --only integration

e2e: all
	@./scripts/test.sh --only e2e

# The Debian packages yard-server and yard-agent, into obj/deb/.
deb: all
	./scripts/build-deb.sh $(OBJDIR)/deb

# The site bundle: both packages and install-site.sh in one directory and
# tarball (obj/site/yard-site.tar.gz), for a fresh Debian 12 host:
# tar xf yard-site.tar.gz && sudo yard-site/install-site.sh --host NAME ...
site: all
	rm -rf $(OBJDIR)/site
	./scripts/build-deb.sh $(OBJDIR)/site/yard-site >/dev/null
	install -m 0755 scripts/install-site.sh $(OBJDIR)/site/yard-site/
	tar -C $(OBJDIR)/site -czf $(OBJDIR)/site/yard-site.tar.gz yard-site
	@echo $(OBJDIR)/site/yard-site.tar.gz

bench: deps all $(OBJDIR)/bench/verify_bench $(OBJDIR)/bench/agentsim \
    $(OBJDIR)/bench/sweep_bench $(OBJDIR)/bench/stage_bench \
    $(OBJDIR)/bench/cfg_bench
	@./scripts/install-deps.sh bench
	@./scripts/bench.sh

$(OBJDIR)/fuzz/%: tests/fuzz/%.c $(PURE_SRCS)
	@mkdir -p $(@D)
	clang -g -O1 -std=c99 -D_GNU_SOURCE -Isrc \
	    -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)

$(OBJDIR)/fuzz/fuzz_cfgdoc: tests/fuzz/fuzz_cfgdoc.c $(PURE_SRCS) src/auth/cfgdoc.c
	@mkdir -p $(@D)
	clang -g -O1 -std=c99 -D_GNU_SOURCE -Isrc \
	    -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)

$(OBJDIR)/fuzz/fuzz_pkg: tests/fuzz/fuzz_pkg.c $(PKG_SRCS)
	@mkdir -p $(@D)
	clang -g -O1 -std=c99 -D_GNU_SOURCE -Isrc \
	    -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS) \
	    $(PKG_LDLIBS)

fuzz: $(FUZZERS:%=$(OBJDIR)/fuzz/%) agent-fuzz
	@for f in $(FUZZERS); do \
		mkdir -p $(OBJDIR)/fuzz/corpus-$$f; \
		echo "fuzz: $$f for $(FUZZ_SECONDS) s"; \
		$(OBJDIR)/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) \
		    -max_len=16384 $(OBJDIR)/fuzz/corpus-$$f \
		    tests/fuzz/corpus/$$f 2>&1 | tail -n 2 || exit 1; \
	done

FORMAT_SRCS=	$(shell find src agent tests/unit tests/fuzz tests/bench -name '*.[ch]')

format:
	clang-format -i $(FORMAT_SRCS)

format-check:
	clang-format --dry-run -Werror $(FORMAT_SRCS)

# make lint: cppcheck, then gcc's static analyzer (-fanalyzer) on every C
# file of src/ and agent/, compiled (not linked) with the flags it is built
# with and -Werror, so that any finding fails.  A stamp per file under
# $(OBJDIR)/lint/ keeps reruns incremental; `make -j2 lint` runs two at once.
LINT_CC?=	gcc
ANALYZER=	-fanalyzer -fdiagnostics-plain-output
LINT_SRCS=	$(sort $(shell find src -name '*.c'))
LINT_AGENT=	$(sort $(wildcard agent/*.c))
LINT_STAMPS=	$(LINT_SRCS:%.c=$(OBJDIR)/lint/%.ok) \
		$(LINT_AGENT:%.c=$(OBJDIR)/lint/%.ok)

lint: lint-cppcheck lint-analyzer

lint-cppcheck:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	    --std=c99 -Isrc --suppress=missingIncludeSystem \
	    --include=/usr/include/x86_64-linux-gnu/sys/queue.h \
	    '-DKORE_SECCOMP_FILTER(...)=' \
	    --inline-suppr src agent

lint-analyzer: $(LINT_STAMPS)

$(OBJDIR)/lint/src/%.ok: src/%.c Makefile
	@mkdir -p $(@D)
	$(LINT_CC) $(CFLAGS) $(KORE_FEATURES) -fPIC $(ANALYZER) \
	    -MMD -MF $(@:.ok=.d) -MT $@ -c $< -o /dev/null
	@touch $@

$(OBJDIR)/lint/agent/%.ok: agent/%.c Makefile agent/agent.mk
	@mkdir -p $(@D)
	$(LINT_CC) $(AGENT_CFLAGS) $(ANALYZER) \
	    -MMD -MF $(@:.ok=.d) -MT $@ -c $< -o /dev/null
	@touch $@

clean:
	rm -rf $(OBJDIR)

-include $(MODULE_OBJS:.o=.d)
-include $(LINT_STAMPS:.ok=.d)
