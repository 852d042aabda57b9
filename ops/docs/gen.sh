#!/usr/bin/env bash
# Regenerate the generated parts of ops/docs/<daemon>.md from each program's own --help: the
# table of options and settings (and, for sf-submit, the table of job types). The parts sit
# between "<!-- gen.sh: <part> begin -->" and "<!-- gen.sh: <part> end -->"; the rest of each
# page is written by hand.
#
#   ops/docs/gen.sh [--check] [--bin-dir DIR]
#
# --check regenerates into a temporary copy and shows the difference: exit 1 when a page is out
# of date (tests/api/test_docs.py runs it). --bin-dir: where the binaries are [<repo>/build, or
# $SF_BIN_DIR]. The job types come from schemas/jobs/job.json of this repository.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=${SF_BIN_DIR:-$repo/build}
check=0
while [ $# -gt 0 ]; do
	case $1 in
	--check) check=1 ;;
	--bin-dir) bin=$2; shift ;;
	*) echo "usage: $0 [--check] [--bin-dir DIR]" >&2; exit 2 ;;
	esac
	shift
done

out=$here
if [ $check = 1 ]; then
	out=$(mktemp -d)
	trap 'rm -rf "$out"' EXIT
	cp "$here"/*.md "$out"/
fi

for d in sf-api sf-networknode sf-hypervisor sf-submit; do
	[ -x "$bin/$d" ] || { echo "gen.sh: $bin/$d is missing (make, or --bin-dir)" >&2; exit 2; }
	# A clean environment: the help must not depend on the caller's SF_* variables.
	env -i PATH=/usr/bin:/bin SF_SCHEMA_DIR="$repo/schemas" "$bin/$d" --help >"$out/.$d.help"
	/usr/bin/python3 - "$out/$d.md" "$out/.$d.help" <<'PY'
import re
import sys

page_path, help_path = sys.argv[1:]
text = open(help_path).read()
lines = text.splitlines()


def cell(s):
    return s.replace("|", "\\|").strip()


def options():
    """(option, environment, file key, default, description) of every option."""
    rows = []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^  (--\S+(?: \S+)?)(?:\s{2,}(\S.*))?$", line)
        if not m:
            i += 1
            continue
        opt, desc = m.group(1), [m.group(2)] if m.group(2) else []
        env = key = default = ""
        i += 1
        while i < len(lines) and lines[i].startswith("        "):
            body = lines[i].strip()
            src = re.match(r"^(?:file key (\S+), )?(?:env (\S+), )?default (.*)$", body)
            if src:
                key, env, default = src.group(1) or "", src.group(2) or "", src.group(3)
            else:
                desc.append(body)
            i += 1
        rows.append((opt, env, key, default, " ".join(desc)))
    return rows


def options_table():
    out = ["| Option | Environment | File key | Default | Description |",
           "| --- | --- | --- | --- | --- |"]
    for opt, env, key, default, desc in options():
        if default and default != "(unset)":
            default = "`%s`" % cell(default)
        out.append("| `%s` | %s | %s | %s | %s |" % (
            cell(opt), "`%s`" % env if env else "", "`%s`" % key if key else "", default,
            cell(desc)))
    return out


def job_types_table():
    part = text.split("Job types (from schemas/jobs/job.json):\n", 1)[1].splitlines()
    out = ["| Type | Object | Queue | Arguments | What it does |", "| --- | --- | --- | --- | --- |"]
    cur = None
    for line in part + [""]:
        if re.match(r"^  [a-z]+\.[a-z_]+$", line) or not line:
            if cur:
                out.append("| `%s` | %s | %s | %s | %s |" % (
                    cur["type"], cell(cur["object"]), cell(cur["queue"]),
                    "<br>".join(cell(a) for a in cur["args"]) or "none", cell(cur["desc"])))
            cur = {"type": line.strip(), "desc": "", "object": "", "queue": "", "args": []}
            continue
        body = line.strip()
        m = re.match(r"^object: (\S+); queue: (.*)$", body)
        if m:
            cur["object"], cur["queue"] = m.group(1), m.group(2)
        elif body.startswith("args."):
            cur["args"].append("`%s` %s" % tuple(body[5:].split(" ", 1)))
        elif body != "args: none":
            cur["desc"] = body
    return out


def replace(page, part, rows):
    begin, end = "<!-- gen.sh: %s begin -->" % part, "<!-- gen.sh: %s end -->" % part
    if begin not in page or end not in page:
        sys.exit("gen.sh: %s has no %s markers" % (page_path, part))
    head, rest = page.split(begin, 1)
    _, tail = rest.split(end, 1)
    return head + begin + "\n" + "\n".join(rows) + "\n" + end + tail


page = open(page_path).read()
page = replace(page, "options", options_table())
if "Job types (from" in text:
    page = replace(page, "job types", job_types_table())
open(page_path, "w").write(page)
PY
	rm -f "$out/.$d.help"
done

if [ $check = 1 ]; then
	rc=0
	for d in sf-api sf-networknode sf-hypervisor sf-submit; do
		diff -u "$here/$d.md" "$out/$d.md" || rc=1
	done
	[ $rc = 0 ] || echo "gen.sh: ops/docs is out of date: run ops/docs/gen.sh" >&2
	exit $rc
fi
