# yard-agent, the agentproto unit tests and fuzzers.
#
# A make fragment: the top-level Makefile includes it (after its `all:`
# rule, so that it does not become the default goal); it also works on its
# own:  make -f agent/agent.mk obj/yard-agent obj/tests/test_agentproto
#
# It keeps its own flags (AGENT_CFLAGS) so that it neither needs nor
# disturbs the module's CFLAGS; it honours SANITIZE= and NOOPT= the same
# way.  Variables for the lead: AGENT_BIN, AGENT_UNIT_TESTS, AGENT_FUZZERS,
# AGENTPROTO_SRCS (add it to PURE_SRCS to link the codecs into yard.so).

OBJDIR?=	obj
FUZZ_SECONDS?=	30

AGENT_PKGS=	jansson libcurl libcrypto
# The agent never links libarchive (with libxml2, ICU and libstdc++ it is
# 2.6 MB of RSS the agent's budget has no room for, and a zip reader in
# a long-running root process): releases are built by yard-agent-stage
# (agent/stage_main.c), which the worker runs; it and the tests link it.
AGENT_STAGE_PKGS=	$(AGENT_PKGS) libarchive zlib
AGENTPROTO_SRCS=	src/agentproto/common.c src/agentproto/auth.c \
		src/agentproto/facts.c src/agentproto/enroll.c \
		src/agentproto/heartbeat.c src/agentproto/commands.c \
		src/agentproto/logs.c src/agentproto/taskspec.c \
		src/agentproto/config.c src/agentproto/reasons.c
AGENTPROTO_OBJS=	$(AGENTPROTO_SRCS:src/agentproto/%.c=$(OBJDIR)/agent/proto/%.o)
# cfgedit: the agent splices a task's configuration into its files.
AGENT_CFGEDIT_SRCS=	src/cfgedit/common.c src/cfgedit/cfgedit.c \
		src/cfgedit/xml.c src/cfgedit/json.c src/cfgedit/props.c
AGENT_CFGEDIT_OBJS=	$(AGENT_CFGEDIT_SRCS:src/cfgedit/%.c=$(OBJDIR)/agent/cfgedit/%.o)
AGENT_SRCS=	agent/main.c agent/log.c agent/state.c agent/os_facts_linux.c \
		agent/http.c agent/run.c agent/os_proc_linux.c agent/supervise.c \
		agent/tasks.c agent/logs.c agent/logread.c agent/policy.c \
		agent/cgroup.c agent/os_linux.c agent/commands.c \
		agent/release.c agent/stage.c agent/fetch.c
AGENT_SRCS+=	agent/deploy.c agent/config.c agent/reason.c agent/logindex.c
AGENT_OBJS=	$(AGENT_SRCS:agent/%.c=$(OBJDIR)/agent/%.o) \
		$(AGENTPROTO_OBJS) $(AGENT_CFGEDIT_OBJS)
# src/pkg's checks, again on the node (the agent does not trust the
# server), in the stage program with stage.c's unpacking half.
AGENT_PKG_SRCS=	src/pkg/check.c src/pkg/name.c
AGENT_STAGE_BIN=	$(OBJDIR)/yard-agent-stage
AGENT_STAGE_OBJS=	$(OBJDIR)/agent/stage_main.o \
		$(OBJDIR)/agent/stage-unpack.o \
		$(filter-out $(OBJDIR)/agent/stage.o $(OBJDIR)/agent/main.o,\
		    $(AGENT_OBJS)) \
		$(AGENT_PKG_SRCS:src/pkg/%.c=$(OBJDIR)/agent/pkg/%.o)
AGENT_BIN=	$(OBJDIR)/yard-agent
# The log relay each task's output goes through (agent/relay.c): libc
# only, as it runs beside every task for as long as the task does.
AGENT_RELAY_BIN=	$(OBJDIR)/yard-agent-relay
AGENT_RELAY_OBJS=	$(OBJDIR)/agent/relay.o $(OBJDIR)/agent/logindex.o
AGENT_UNIT_TESTS=	$(OBJDIR)/tests/test_agentproto \
		$(OBJDIR)/tests/test_procstat $(OBJDIR)/tests/test_supervise \
		$(OBJDIR)/tests/test_logread $(OBJDIR)/tests/test_cgroup \
		$(OBJDIR)/tests/test_policy $(OBJDIR)/tests/test_tasks \
		$(OBJDIR)/tests/test_lifecycle $(OBJDIR)/tests/test_commands \
		$(OBJDIR)/tests/test_release
AGENT_UNIT_TESTS+=	$(OBJDIR)/tests/test_deploy $(OBJDIR)/tests/test_agentconfig
AGENT_UNIT_TESTS+=	$(OBJDIR)/tests/test_reason
AGENT_UNIT_TESTS+=	$(OBJDIR)/tests/test_logindex
AGENT_FUZZ_NAMES=	fuzz_agentproto_enroll fuzz_agentproto_heartbeat \
		fuzz_agentproto_poll fuzz_agentproto_result \
		fuzz_agentproto_auth fuzz_agentproto_task fuzz_procstat \
		fuzz_agentproto_logchunk fuzz_logread fuzz_policy \
		fuzz_release_journal
AGENT_FUZZ_NAMES+=	fuzz_deploy_payload fuzz_agentproto_config
AGENT_FUZZERS=	$(AGENT_FUZZ_NAMES:%=$(OBJDIR)/fuzz/%)
AGENT_FUZZ_DICT=	tests/fuzz/corpus/fuzz_agentproto_dict/agentproto.dict

AGENT_CFLAGS=	-std=c99 -pedantic -D_GNU_SOURCE -Isrc -Iagent
AGENT_CFLAGS+=	-Wall -Wextra -Werror -Wno-unused-parameter
AGENT_CFLAGS+=	-Wstrict-prototypes -Wmissing-prototypes
AGENT_CFLAGS+=	-Wmissing-declarations -Wshadow -Wpointer-arith
AGENT_CFLAGS+=	-Wcast-qual -Wsign-compare -Wtype-limits -Wformat=2
AGENT_CFLAGS+=	-fstack-protector-strong
AGENT_CFLAGS+=	$(shell pkg-config --cflags $(AGENT_PKGS) 2>/dev/null)
AGENT_LDLIBS=	$(shell pkg-config --libs $(AGENT_PKGS) 2>/dev/null)
AGENT_STAGE_LDLIBS=	$(shell pkg-config --libs $(AGENT_STAGE_PKGS) 2>/dev/null)
AGENT_LDFLAGS=

ifneq ("$(SANITIZE)", "")
AGENT_CFLAGS+=	-g -O1 -fno-omit-frame-pointer -fsanitize=$(SANITIZE)
AGENT_CFLAGS+=	-fno-sanitize-recover=all
AGENT_LDFLAGS+=	-fsanitize=$(SANITIZE)
else ifneq ("$(NOOPT)", "")
AGENT_CFLAGS+=	-g -O0
else
AGENT_CFLAGS+=	-g -O2 -D_FORTIFY_SOURCE=2
endif

AGENT_SAVED_GOAL:=	$(.DEFAULT_GOAL)

.PHONY: agent-build agent-unit agent-fuzz

agent-build: $(AGENT_BIN)

# The agent comes with its stage program and its log relay (found next
# to it).
$(AGENT_BIN): $(AGENT_OBJS) $(AGENT_STAGE_BIN) $(AGENT_RELAY_BIN)
	$(CC) $(AGENT_LDFLAGS) -o $@ $(AGENT_OBJS) $(AGENT_LDLIBS)

$(AGENT_RELAY_BIN): $(AGENT_RELAY_OBJS)
	$(CC) $(AGENT_LDFLAGS) -o $@ $(AGENT_RELAY_OBJS)

# The stderr index on real files, and the relay writing it.
$(OBJDIR)/tests/test_logindex: tests/unit/test_logindex.c agent/logindex.c \
    agent/logindex.h $(AGENT_RELAY_BIN)
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) $(AGENT_LDFLAGS) -o $@ tests/unit/test_logindex.c \
	    agent/logindex.c -lcmocka

$(AGENT_STAGE_BIN): $(AGENT_STAGE_OBJS)
	$(CC) $(AGENT_LDFLAGS) -o $@ $(AGENT_STAGE_OBJS) $(AGENT_STAGE_LDLIBS)

$(OBJDIR)/agent/stage-unpack.o: agent/stage.c
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) -DAGENT_STAGE_UNPACK -MMD -c $< -o $@

$(OBJDIR)/agent/%.o: agent/%.c
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) -MMD -c $< -o $@

$(OBJDIR)/agent/pkg/%.o: src/pkg/%.c
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) -MMD -c $< -o $@

$(OBJDIR)/agent/cfgedit/%.o: src/cfgedit/%.c
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) -MMD -c $< -o $@

# The codecs again, without -fPIC and Kore's feature flags.
$(OBJDIR)/agent/proto/%.o: src/agentproto/%.c
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) -MMD -c $< -o $@

$(OBJDIR)/tests/test_agentproto: tests/unit/test_agentproto.c \
    $(AGENTPROTO_SRCS) $(AGENT_CFGEDIT_SRCS) src/agentproto/agentproto.h \
    src/agentproto/internal.h src/cfgedit/cfgedit.h
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) $(AGENT_LDFLAGS) -o $@ \
	    tests/unit/test_agentproto.c $(AGENTPROTO_SRCS) \
	    $(AGENT_CFGEDIT_SRCS) \
	    $(shell pkg-config --libs jansson) -lcmocka

# procstat.c with what it uses of the agent (the clock, the log).
# The Linux implementation of agent/os.h, whole: each part uses others.
AGENT_OS_SRCS=	agent/os_linux.c agent/os_proc_linux.c agent/os_facts_linux.c \
		agent/cgroup.c
PROCSTAT_SRCS=	$(AGENT_OS_SRCS) agent/log.c $(AGENTPROTO_SRCS) \
		$(AGENT_CFGEDIT_SRCS)

$(OBJDIR)/tests/test_procstat: tests/unit/test_procstat.c $(PROCSTAT_SRCS)
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) $(AGENT_LDFLAGS) -o $@ $^ $(AGENT_LDLIBS) -lcmocka

$(OBJDIR)/tests/test_supervise: tests/unit/test_supervise.c \
    agent/supervise.c agent/logread.c agent/logindex.c agent/policy.c \
    $(PROCSTAT_SRCS)
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) $(AGENT_LDFLAGS) -o $@ $^ $(AGENT_LDLIBS) -lcmocka

# cgroup.c's parsers and the cgroup calls (against the host's cgroup2).
$(OBJDIR)/tests/test_cgroup: tests/unit/test_cgroup.c $(PROCSTAT_SRCS)
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) $(AGENT_LDFLAGS) -o $@ $^ $(AGENT_LDLIBS) -lcmocka

# tasks.c with the rest of the agent but its main().
TASKS_TEST_SRCS=	$(filter-out agent/main.c,$(AGENT_SRCS)) $(AGENTPROTO_SRCS) \
		$(AGENT_CFGEDIT_SRCS)

$(OBJDIR)/tests/test_tasks: tests/unit/test_tasks.c $(TASKS_TEST_SRCS)
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) $(AGENT_LDFLAGS) -o $@ $^ $(AGENT_LDLIBS) -lcmocka

# The agent's command table against agentproto's list.
$(OBJDIR)/tests/test_commands: tests/unit/test_commands.c $(TASKS_TEST_SRCS)
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) $(AGENT_LDFLAGS) -o $@ $^ $(AGENT_LDLIBS) -lcmocka

# A result's reason in machine form (reason.c) and the server's check.
$(OBJDIR)/tests/test_reason: tests/unit/test_reason.c $(TASKS_TEST_SRCS)
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) $(AGENT_LDFLAGS) -o $@ $^ $(AGENT_LDLIBS) -lcmocka

# A task's configuration applied to real directories (config.c).
$(OBJDIR)/tests/test_agentconfig: tests/unit/test_agentconfig.c \
    $(TASKS_TEST_SRCS) agent/config.h
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) -Wno-format-truncation $(AGENT_LDFLAGS) -o $@ \
	    tests/unit/test_agentconfig.c $(TASKS_TEST_SRCS) $(AGENT_LDLIBS) \
	    -lcmocka

# The task lifecycle's transitions, with real processes.
$(OBJDIR)/tests/test_lifecycle: tests/unit/test_lifecycle.c $(TASKS_TEST_SRCS)
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) $(AGENT_LDFLAGS) -o $@ $^ $(AGENT_LDLIBS) -lcmocka

# The release engine on real directories (and a tmpfs when it may).
RELEASE_SRCS=	agent/release.c agent/stage.c agent/fetch.c agent/state.c agent/reason.c \
		$(AGENT_PKG_SRCS) $(PROCSTAT_SRCS)

$(OBJDIR)/tests/test_release: tests/unit/test_release.c $(RELEASE_SRCS) \
    agent/release.h
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) -Wno-format-truncation $(AGENT_LDFLAGS) -o $@ \
	    -DAGENT_STAGE_UNPACK tests/unit/test_release.c $(RELEASE_SRCS) \
	    $(AGENT_STAGE_LDLIBS) -lcmocka

$(OBJDIR)/fuzz/fuzz_release_journal: tests/fuzz/fuzz_release_journal.c \
    $(RELEASE_SRCS)
	@mkdir -p $(@D)
	clang -g -O1 -std=c99 -D_GNU_SOURCE -Isrc -Iagent \
	    $(shell pkg-config --cflags $(AGENT_PKGS)) \
	    -fsanitize=fuzzer,address,undefined -o $@ $^ \
	    $(shell pkg-config --libs $(AGENT_STAGE_PKGS))

# Not run by make test: stage_bench times an update against unzip.
$(OBJDIR)/bench/stage_bench: tests/bench/stage_bench.c $(RELEASE_SRCS)
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) -DAGENT_STAGE_UNPACK $(AGENT_LDFLAGS) -o $@ $^ \
	    $(AGENT_STAGE_LDLIBS)

# The release commands (deploy.c): payloads, the FIFO, the decisions,
# a rollback with real processes, recovery on real directories.
# (Its worker runs the stage program found next to the test binary.)
$(OBJDIR)/tests/test_deploy: tests/unit/test_deploy.c $(TASKS_TEST_SRCS) \
    $(AGENT_STAGE_BIN)
	@mkdir -p $(@D)
	ln -sf ../yard-agent-stage $(@D)/yard-agent-stage
	$(CC) $(AGENT_CFLAGS) $(AGENT_LDFLAGS) -o $@ tests/unit/test_deploy.c \
	    $(TASKS_TEST_SRCS) $(AGENT_STAGE_LDLIBS) -lcmocka

$(OBJDIR)/fuzz/fuzz_deploy_payload: tests/fuzz/fuzz_deploy_payload.c \
    $(TASKS_TEST_SRCS)
	@mkdir -p $(@D)
	clang -g -O1 -std=c99 -D_GNU_SOURCE -Isrc -Iagent \
	    $(shell pkg-config --cflags $(AGENT_PKGS)) \
	    -fsanitize=fuzzer,address,undefined -o $@ $^ \
	    $(shell pkg-config --libs $(AGENT_STAGE_PKGS))

LOGREAD_SRCS=	agent/logread.c agent/logindex.c agent/policy.c \
		$(PROCSTAT_SRCS)

# The policy parser and path checks, Kore-free (and the log they use).
POLICY_SRCS=	agent/policy.c $(PROCSTAT_SRCS)

$(OBJDIR)/tests/test_policy: tests/unit/test_policy.c $(POLICY_SRCS)
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) $(AGENT_LDFLAGS) -o $@ $^ $(AGENT_LDLIBS) -lcmocka

$(OBJDIR)/fuzz/fuzz_policy: tests/fuzz/fuzz_policy.c $(POLICY_SRCS)
	@mkdir -p $(@D)
	clang -g -O1 -std=c99 -D_GNU_SOURCE -Isrc -Iagent \
	    $(shell pkg-config --cflags jansson libcurl) \
	    -fsanitize=fuzzer,address,undefined -o $@ $^ \
	    $(shell pkg-config --libs jansson libcurl)

$(OBJDIR)/tests/test_logread: tests/unit/test_logread.c $(LOGREAD_SRCS)
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) $(AGENT_LDFLAGS) -o $@ $^ $(AGENT_LDLIBS) -lcmocka

$(OBJDIR)/fuzz/fuzz_logread: tests/fuzz/fuzz_logread.c $(LOGREAD_SRCS)
	@mkdir -p $(@D)
	clang -g -O1 -std=c99 -D_GNU_SOURCE -Isrc -Iagent \
	    $(shell pkg-config --cflags jansson libcurl) \
	    -fsanitize=fuzzer,address,undefined -o $@ $^ \
	    $(shell pkg-config --libs jansson libcurl)

$(OBJDIR)/bench/sweep_bench: tests/bench/sweep_bench.c $(PROCSTAT_SRCS)
	@mkdir -p $(@D)
	$(CC) $(AGENT_CFLAGS) $(AGENT_LDFLAGS) -o $@ $^ $(AGENT_LDLIBS)

agent-unit: $(AGENT_UNIT_TESTS)
	@for t in $(AGENT_UNIT_TESTS); do $$t || exit 1; done

$(OBJDIR)/fuzz/fuzz_agentproto_%: tests/fuzz/fuzz_agentproto_%.c \
    $(AGENTPROTO_SRCS) $(AGENT_CFGEDIT_SRCS)
	@mkdir -p $(@D)
	clang -g -O1 -std=c99 -D_GNU_SOURCE -Isrc \
	    $(shell pkg-config --cflags jansson) \
	    -fsanitize=fuzzer,address,undefined -o $@ $^ \
	    $(shell pkg-config --libs jansson)

$(OBJDIR)/fuzz/fuzz_procstat: tests/fuzz/fuzz_procstat.c $(PROCSTAT_SRCS)
	@mkdir -p $(@D)
	clang -g -O1 -std=c99 -D_GNU_SOURCE -Isrc -Iagent \
	    $(shell pkg-config --cflags jansson libcurl) \
	    -fsanitize=fuzzer,address,undefined -o $@ $^ \
	    $(shell pkg-config --libs jansson libcurl)

agent-fuzz: $(AGENT_FUZZERS)
	@for f in $(AGENT_FUZZ_NAMES); do \
		mkdir -p $(OBJDIR)/fuzz/corpus-$$f; \
		echo "fuzz: $$f for $(FUZZ_SECONDS) s"; \
		$(OBJDIR)/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) \
		    -max_len=65536 -dict=$(AGENT_FUZZ_DICT) \
		    $(OBJDIR)/fuzz/corpus-$$f \
		    tests/fuzz/corpus/$$f 2>&1 | tail -n 2 || exit 1; \
	done

ifneq ("$(AGENT_SAVED_GOAL)", "")
.DEFAULT_GOAL:=	$(AGENT_SAVED_GOAL)
endif

-include $(AGENT_OBJS:.o=.d) $(AGENT_RELAY_OBJS:.o=.d)
