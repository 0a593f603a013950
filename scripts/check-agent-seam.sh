#!/bin/sh
# The agent's platform seam (agent/os.h, docs/architecture.md "Agent
# platform seam"): no Linux-only call outside its Linux implementation,
# agent/os*.c and agent/cgroup.c.  A grep for the identifiers that give
# one away (the /proc and cgroup files, signalfd, prctl, fork, setsid,
# exec*, kill, waitpid, close_range, getrandom, account switching and
# lookup, sysconf, uname, statvfs), outside comments.  Fails naming each
# file, line and identifier.
set -u
cd "$(dirname "$0")/.." || exit 1

pat='/proc[/"]|/sys/fs/cgroup|cgroup\.(procs|kill|events)|signalfd|prctl|'
pat=$pat'(^|[^_[:alnum:]])(fork|vfork|setsid|execv[pe]*|execl[pe]*|kill|'
pat=$pat'waitpid|waitid|wait|close_range|getrandom|setuid|setgid|seteuid|'
pat=$pat'setegid|setgroups|initgroups|getgrouplist|getpwnam|getpwuid|'
pat=$pat'getgrnam|geteuid|sysconf|uname|statvfs|sigprocmask|pipe2|'
pat=$pat'agent_cgroup_[a-z_]+|agent_tracking_name)[[:space:]]*\('

rc=0
for f in agent/*.c agent/*.h; do
	case $f in
	agent/os*.c | agent/os*.h | agent/cgroup.c) continue ;;
	esac
	# Comment lines (" * ..." and "/* ...") may name what they like.
	grep -nE "$pat" "$f" | grep -vE '^[0-9]+:[[:space:]]*(/?\*)' |
	    while IFS= read -r hit; do
		echo "check-agent-seam: $f:$hit"
		echo "check-agent-seam:   a Linux-only call outside agent/os*.c: put it behind agent/os.h"
	done
done >"${TMPDIR:-/tmp}/check-agent-seam.$$"
if [ -s "${TMPDIR:-/tmp}/check-agent-seam.$$" ]; then
	cat "${TMPDIR:-/tmp}/check-agent-seam.$$"
	rc=1
else
	echo "check-agent-seam: ok, $(ls agent/*.c | grep -cvE 'agent/(os[^/]*|cgroup)\.c$') files outside the seam are free of Linux-only calls"
fi
rm -f "${TMPDIR:-/tmp}/check-agent-seam.$$"
exit $rc
